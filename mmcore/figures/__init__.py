"""Every figure, as `fig_*(fit, ...) -> go.Figure` builders, in the house style (style.py):
views shared by the pages, views of the model, the lessons' figures, and the GLMM lesson's (glmm.py)."""
from .designs import fig_incidence, fig_planning, fig_planning_theory, fig_variance_shares
from .glmm import (
                      fig_binned_residuals,
                      fig_cell_profiles,
                      fig_count_frequencies,
                      fig_method_study,
                      fig_methods,
                      fig_odds_ratios,
                      fig_simulated_residuals,
                      fig_subject_curves,
                      fig_theory,
)
from .inference import fig_centring, fig_intervals, fig_null_rejections, fig_zeta
from .lessons import (
                      fig_bootstrap,
                      fig_decomposition,
                      fig_estimates,
                      fig_profiles,
                      fig_shrinkage,
                      fig_shrinkage_axis,
                      fig_shrinkage_lines,
                      fig_shrinkage_plane,
                      fig_study,
                      fig_surface,
)
from .model import MAX_ROWS as MATRIX_ROWS
from .model import fig_design, fig_matrix, fig_ranef_plane, fig_variance_components
from .pooling import covariate_kind, fig_pooling
from .style import freeze, styled
from .sweeps import (
                      fig_icc_sweep,
                      fig_rho_sweep,
                      fig_shrinkage_sweep,
                      fig_sigma_b_sweep,
                      fig_truth_sweep,
                      sweep_shape,
)
from .views import fig_caterpillar, fig_lines, fig_panels, fig_qq, fig_qq_ranef, fig_qq_residuals, fig_residuals

__all__ = [
    "fig_bootstrap", "fig_decomposition", "fig_estimates", "fig_profiles", "fig_shrinkage", "fig_shrinkage_axis",
    "fig_shrinkage_lines", "fig_shrinkage_plane", "fig_study", "fig_surface", "fig_design", "fig_matrix",
    "fig_ranef_plane", "fig_variance_components", "fig_sigma_b_sweep", "sweep_shape", "fig_caterpillar", "fig_lines", "fig_panels", "fig_qq",
    "fig_qq_ranef", "fig_qq_residuals", "fig_residuals", "freeze", "styled", "fig_pooling", "covariate_kind",
    "fig_centring", "fig_intervals", "fig_null_rejections", "fig_zeta", "fig_incidence", "fig_planning",
    "fig_variance_shares", "fig_planning_theory",
    "fig_binned_residuals", "fig_cell_profiles", "fig_count_frequencies", "fig_method_study", "fig_methods",
    "fig_odds_ratios", "fig_simulated_residuals", "fig_subject_curves", "fig_theory",
    "fig_icc_sweep", "fig_rho_sweep", "fig_shrinkage_sweep", "fig_truth_sweep", "MATRIX_ROWS",
]
