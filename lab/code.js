// Preformatted text (a fit as R prints it, the link to a view) with a copy button: the look of
// st.code without its syntax highlighter (lab/code.py says why).
const ICON = '<svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" fill="currentColor"><path d="M16 1H4c-1.1 0-2 .9-2 2v14h2V3h12V1zm3 4H8c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h11c1.1 0 2-.9 2-2V7c0-1.1-.9-2-2-2zm0 16H8V7h11v14z"/></svg>';

// The clipboard API needs a secure context (https or localhost); a class server on a plain http
// address gets the older way, a selected hidden textarea.
function copy(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text).then(() => true, () => false);
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.cssText = "position: fixed; top: 0; left: 0; opacity: 0;";
  document.body.appendChild(area);
  area.select();
  let done = false;
  try { done = document.execCommand("copy"); } catch (e) { done = false; }
  area.remove();
  return Promise.resolve(done);
}

export default function (component) {
  const { data, parentElement } = component;
  let box = parentElement.querySelector("div.mmlab-code");
  if (box && !box.querySelector(".mmlab-box")) {  // drawn by an older version of this script (a redeploy)
    box.remove();
    box = null;
  }
  if (!box) {
    box = document.createElement("div");
    box.className = "mmlab-code";
    box.innerHTML = `<p class="mmlab-caption" hidden></p><div class="mmlab-box"><pre><code></code></pre>`
      + `<button type="button" title="Copy to clipboard" aria-label="Copy to clipboard">${ICON}</button></div>`;
    const button = box.querySelector("button");
    button.addEventListener("click", () => copy(box.querySelector("code").textContent).then((done) => {
      button.title = done ? "Copied" : "Select the text and copy it";
      button.classList.toggle("mmlab-copied", done);
      setTimeout(() => { button.title = "Copy to clipboard"; button.classList.remove("mmlab-copied"); }, 1500);
    }));
    parentElement.appendChild(box);
  }
  box.classList.toggle("mmlab-wrap", Boolean(data.wrap));
  const caption = box.querySelector("p.mmlab-caption");  // plain text: set as text, never as HTML
  caption.textContent = data.caption || "";
  caption.hidden = !data.caption;
  box.querySelector("code").textContent = data.text;
}
