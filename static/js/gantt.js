// Drag-to-move on the machine Gantt (templates/planning/partials/gantt_svg.html).
// ClosedLoop's own code: a few dozen lines of pointer events on the server-drawn SVG need no
// charting library. A bar is dragged along time (snapped to 15 minutes, 5 in the day view)
// and across machine rows; on release the move goes to the server, which applies the
// scheduler's checks, pins the operation and reschedules the rest — or answers why not.
// A click without movement follows the bar's link to its order.
(function () {
  "use strict";
  const SNAP_MIN = 15;

  function svgPoint(svg, evt) {
    const p = svg.createSVGPoint();
    p.x = evt.clientX;
    p.y = evt.clientY;
    return p.matrixTransform(svg.getScreenCTM().inverse());
  }

  function rowAt(svg, y) {
    return Array.from(svg.querySelectorAll(".row-target")).find((r) => {
      const top = Number(r.getAttribute("y"));
      return y >= top && y < top + Number(r.getAttribute("height"));
    });
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  function start(evt) {
    const bar = evt.target.closest(".bar.movable");
    const svg = evt.target.closest("svg.gantt-movable");
    if (!bar || !svg || evt.button !== 0) return;
    const rect = bar.querySelector("rect");
    const span = Number(svg.dataset.span);
    const plot = Number(svg.dataset.width) - Number(svg.dataset.labelW);
    const secondsPerUnit = span / plot;
    const snap = (span <= 86400 ? 5 : SNAP_MIN) * 60;
    const origin = svgPoint(svg, evt);
    const x0 = Number(rect.getAttribute("x"));
    const y0 = Number(rect.getAttribute("y"));
    const barStart = new Date(bar.dataset.start);
    const workCenter = bar.dataset.workCenter;
    let moved = false;
    let target = null;
    let when = barStart;
    const label = document.createElementNS("http://www.w3.org/2000/svg", "text");
    label.setAttribute("class", "drag-time");

    function move(e) {
      const p = svgPoint(svg, e);
      const dx = p.x - origin.x;
      const dy = p.y - origin.y;
      if (!moved && Math.abs(dx) < 4 && Math.abs(dy) < 4) return;
      if (!moved) {
        moved = true;
        bar.classList.add("dragging");
        svg.classList.add("gantt-dragging");
        svg.appendChild(label);
      }
      const seconds = Math.round((dx * secondsPerUnit) / snap) * snap;
      when = new Date(barStart.getTime() + seconds * 1000);
      const row = rowAt(svg, p.y);
      svg.querySelectorAll(".row-target.drop").forEach((r) => r.classList.remove("drop"));
      target = row && row.dataset.workCenter === workCenter ? row : null;
      if (target) target.classList.add("drop");
      const x = x0 + seconds / secondsPerUnit;
      const y = target ? Number(target.getAttribute("y")) + 4 : y0;
      rect.setAttribute("transform", `translate(${x - x0} ${y - y0})`);
      label.setAttribute("x", x);
      label.setAttribute("y", y - 2);
      label.textContent = `${pad(when.getMonth() + 1)}-${pad(when.getDate())} ${pad(when.getHours())}:${pad(when.getMinutes())}`;
    }

    function end(e) {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", end);
      window.removeEventListener("pointercancel", end);
      if (!moved) return; // a click: the link opens the order
      e.preventDefault();
      bar.addEventListener("click", (c) => c.preventDefault(), { once: true, capture: true });
      svg.classList.remove("gantt-dragging");
      const machine = target ? target.dataset.machine : bar.dataset.machine;
      // The partial's hidden form posts it (htmx: the CSRF header and the swap as any action).
      const form = document.querySelector("form.gantt-move");
      form.elements.operation.value = bar.dataset.operation;
      form.elements.machine.value = machine;
      form.elements.start.value = when.toISOString();
      form.elements.view.value = svg.dataset.view;
      form.elements.from.value = svg.dataset.from;
      window.htmx.trigger(form, "submit");
    }

    evt.preventDefault();
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", end);
    window.addEventListener("pointercancel", end);
  }

  document.addEventListener("pointerdown", start);
})();
