/* The customer's attribute rows: "Add an attribute" appends a copy of the empty
 * row the page holds, numbered, and counts it in the formset's TOTAL_FORMS. */
(function () {
  "use strict";
  const add = document.getElementById("attribute-add");
  const template = document.getElementById("attribute-empty-row");
  const body = document.getElementById("attribute-rows");
  const total = document.getElementById("id_attributes-TOTAL_FORMS");
  if (!add || !template || !body || !total) return;
  add.hidden = false;
  add.addEventListener("click", function () {
    const index = Number(total.value);
    const html = template.innerHTML.replaceAll("__prefix__", index).replaceAll("__number__", index + 1);
    body.insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
    body.lastElementChild.querySelector("input").focus();
  });
})();
