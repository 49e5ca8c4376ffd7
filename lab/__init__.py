"""lab: the Streamlit glue between mmcore and the pages. The only code besides app.py and pages/
that imports streamlit; mmcore never imports it.

Pages `import lab` and use the names below. Modules: page (the frame of a page, presenter mode),
links (views as URLs), progress (a learner's progress kept in the browser), sidebar (the data source and the truth's sliders), widgets (shared
elements), chart (a figure on the page), code (preformatted text: a printout, a link), runs (explicitly started simulations), checks (quizzes), course (the lessons in order),
cache (data, fits and figures shared by all sessions), prefetch (a truth slider's other values computed
ahead), server (starting the app).
"""
from lab.cache import (
                       SIMULATE,
                       UPLOAD,
                       DataSpec,
                       get_acf,
                       get_anova_text,
                       get_attenuation,
                       get_centring,
                       get_centring_figure,
                       get_comparison,
                       get_components_figure,
                       get_curves,
                       get_curves_figure,
                       get_data,
                       get_deletion,
                       get_deletion_figure,
                       get_deletion_fits,
                       get_f_tests,
                       get_figure,
                       get_fit,
                       get_glmm_anova_text,
                       get_glmm_figure,
                       get_glmm_fit,
                       get_incidence_figure,
                       get_lme,
                       get_lme_anova_text,
                       get_lme_figure,
                       get_matrices,
                       get_methods,
                       get_pitfall_table,
                       get_predictions,
                       get_profile,
                       get_relation,
                       get_reused_labels,
                       get_se,
                       get_shrinkage_table,
                       get_slope_deletion_figure,
                       get_summary_text,
                       get_t_tests,
                       get_theory_figure,
                       get_truth_sweep_figure,
                       get_variance_shares_figure,
                       get_variance_table,
                       get_zeta_figure,
                       register_upload,
)
from lab.chart import at_step, show, show_followed
from lab.checks import quiz
from lab.code import code_text
from lab.course import CORE, LESSONS, TUTORIAL, lesson_link, next_up, page_link, url_path
from lab.links import bind, bound_value, open_tab_for, presenting
from lab.page import about_chart, explain, page_end, page_start, scale, sections, side_by_side, steps, stop
from lab.prefetch import compute_ahead
from lab.runs import remember, remembered, run_on_click, run_with_progress
from lab.sidebar import INTERCEPT_MODELS, TRUTHS, intercept_model, sidebar_data
from lab.widgets import (
                       anova_table,
                       code_blocks,
                       code_export,
                       data_head,
                       fit_or_stop,
                       format_boot_p,
                       format_p,
                       glmm_fit_or_stop,
                       notes,
                       plural,
                       pooling_pills,
                       response_advice,
                       styled,
                       table,
                       truth_table,
)

__all__ = [
    "SIMULATE", "UPLOAD", "DataSpec", "get_comparison", "get_components_figure", "get_curves", "get_curves_figure",
    "get_glmm_anova_text", "get_glmm_figure", "get_glmm_fit", "get_methods", "get_attenuation", "get_theory_figure",
    "get_data", "get_figure", "get_fit", "get_anova_text", "compute_ahead", "get_matrices", "get_predictions", "get_shrinkage_table", "register_upload",
    "get_centring", "get_centring_figure", "get_deletion", "get_deletion_figure", "get_deletion_fits", "get_slope_deletion_figure", "get_f_tests", "get_profile", "get_summary_text", "get_t_tests",
    "get_zeta_figure", "get_incidence_figure", "get_variance_shares_figure", "get_variance_table",
    "get_pitfall_table", "get_relation", "get_reused_labels", "get_se", "get_truth_sweep_figure", "get_acf", "get_lme",
    "get_lme_anova_text", "get_lme_figure",
    "quiz", "CORE", "LESSONS", "TUTORIAL", "lesson_link", "next_up", "page_link", "url_path", "bind", "bound_value", "open_tab_for", "presenting",
    "page_end", "about_chart", "explain", "page_start", "stop",
    "scale", "sections", "side_by_side", "steps", "remember", "remembered", "run_on_click", "run_with_progress", "INTERCEPT_MODELS", "TRUTHS",
    "intercept_model", "sidebar_data", "anova_table", "code_blocks", "code_export", "data_head", "code_text", "fit_or_stop", "glmm_fit_or_stop", "format_boot_p",
    "format_p", "notes", "plural", "pooling_pills", "response_advice", "at_step", "show", "show_followed", "styled", "table", "truth_table",
]
