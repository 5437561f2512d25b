// Réseau Pôles, the portal: the little the pages do beyond htmx. Pages allow no inline
// script (their Content-Security-Policy), so what a button does is said here.

// A button marked data-imprimer prints the page (the pick list of a delivery day).
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-imprimer]")) {
    window.print();
  }
});
