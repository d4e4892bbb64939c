/*
 * Tiny bar charts drawn as inline SVG (no library, no network): stacked vertical bars
 * per category, or horizontal bars. Each chart is an image with a text alternative
 * and comes with its data as a table inside <details>, for screen readers and copying.
 */
(() => {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const WIDTH = 720;
  const HEIGHT = 240;
  const MARGIN = { top: 12, right: 12, bottom: 36, left: 40 };
  const ROW_HEIGHT = 26;
  const LABEL_WIDTH = 60;
  const TICKS = 4;

  function svgElement(tag, attrs, text) {
    const element = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function niceMax(value) {
    if (value <= TICKS) return TICKS;
    const step = Math.pow(10, Math.floor(Math.log10(value)));
    return Math.ceil(value / step) * step;
  }

  function frame(summary, width, height) {
    const svg = svgElement("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": summary,
      focusable: "false",
    });
    return svg;
  }

  function legend(series) {
    const list = document.createElement("ul");
    list.className = "legend";
    for (const item of series) {
      const entry = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = item.color;
      swatch.setAttribute("aria-hidden", "true");
      entry.append(swatch, item.name);
      list.appendChild(entry);
    }
    return list;
  }

  function dataTable(caption, categoryName, categories, series) {
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = "Show the data";
    const table = document.createElement("table");
    const cap = document.createElement("caption");
    cap.textContent = caption;
    table.appendChild(cap);
    const head = table.createTHead().insertRow();
    for (const name of [categoryName, ...series.map((s) => s.name)]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.appendChild(th);
    }
    const body = table.createTBody();
    categories.forEach((category, index) => {
      const row = body.insertRow();
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = category;
      row.appendChild(th);
      for (const item of series) {
        const cell = row.insertCell();
        cell.className = "number";
        cell.textContent = String(item.values[index]);
      }
    });
    details.append(summary, table);
    return details;
  }

  /** Stacked vertical bars: one bar per category, one segment per series. */
  function stackedBars(container, options) {
    const { categories, series, summary, categoryName } = options;
    container.textContent = "";
    const totals = categories.map((_, i) => series.reduce((sum, s) => sum + s.values[i], 0));
    const max = niceMax(Math.max(0, ...totals));
    const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const svg = frame(summary, WIDTH, HEIGHT);
    for (let t = 0; t <= TICKS; t += 1) {
      const value = (max / TICKS) * t;
      const y = MARGIN.top + plotHeight - (value / max) * plotHeight;
      svg.appendChild(svgElement("line", { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, stroke: "#d4dae1" }));
      svg.appendChild(svgElement("text", { x: MARGIN.left - 6, y: y + 4, "text-anchor": "end" }, String(Math.round(value))));
    }
    const slot = plotWidth / Math.max(categories.length, 1);
    const barWidth = Math.max(2, slot * 0.7);
    const labelEvery = Math.ceil(categories.length / 12);
    categories.forEach((category, i) => {
      let y = MARGIN.top + plotHeight;
      const x = MARGIN.left + i * slot + (slot - barWidth) / 2;
      for (const item of series) {
        const height = (item.values[i] / max) * plotHeight;
        if (height > 0) {
          y -= height;
          const bar = svgElement("rect", { x, y, width: barWidth, height, fill: item.color, class: "bar" });
          bar.appendChild(svgElement("title", {}, `${category}: ${item.values[i]} ${item.name}`));
          svg.appendChild(bar);
        }
      }
      if (i % labelEvery === 0) {
        svg.appendChild(svgElement("text", { x: x + barWidth / 2, y: HEIGHT - MARGIN.bottom + 16, "text-anchor": "middle" }, category));
      }
    });
    container.append(legend(series), svg, dataTable(summary, categoryName, categories, series));
  }

  /** Horizontal bars: one row per category, a single series. */
  function horizontalBars(container, options) {
    const { categories, series, summary, categoryName } = options;
    container.textContent = "";
    const [item] = series;
    const max = niceMax(Math.max(0, ...item.values));
    const height = MARGIN.top + categories.length * ROW_HEIGHT + 8;
    const plotWidth = WIDTH - LABEL_WIDTH - MARGIN.right - 40;
    const svg = frame(summary, WIDTH, height);
    categories.forEach((category, i) => {
      const y = MARGIN.top + i * ROW_HEIGHT;
      const width = (item.values[i] / max) * plotWidth;
      svg.appendChild(svgElement("text", { x: LABEL_WIDTH - 8, y: y + 15, "text-anchor": "end" }, category));
      const bar = svgElement("rect", { x: LABEL_WIDTH, y: y + 3, width: Math.max(width, 1), height: ROW_HEIGHT - 8, fill: item.color, class: "bar" });
      bar.appendChild(svgElement("title", {}, `${category}: ${item.values[i]}`));
      svg.appendChild(bar);
      svg.appendChild(svgElement("text", { x: LABEL_WIDTH + width + 6, y: y + 15 }, String(item.values[i])));
    });
    container.append(svg, dataTable(summary, categoryName, categories, series));
  }

  window.CivicCharts = { stackedBars, horizontalBars };
})();
