"""The style sheet and script of the alignment page (``ctctool.io.html_page``): inline, no network."""

PAGE_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{padding:10px 16px 4px}
h1{font-size:18px;margin:0 0 2px}
p{margin:4px 0}
.facts{color:#555}.note{color:#8a4b00}
.source{color:#666;font-size:12px}
audio{height:32px;vertical-align:middle}
button{font-size:15px;width:28px;margin-right:4px}
.hint{color:#666;font-size:12px}
.scroller{overflow-x:auto;margin:4px 16px;border:1px solid #ccc;background:#fff}
.timeline{position:relative;width:100%}
.row{position:relative}
.lines{height:30px;border-bottom:1px solid #ddd}
.wave{height:150px;background:#f4f7fb}.wave.empty{height:56px}
.tokens{height:22px;border-top:1px solid #ddd}
.axis{height:20px;border-top:1px solid #ccc;font-size:11px;color:#555}
.tick{position:absolute;top:0;height:5px;border-left:1px solid #888}
.tick span{position:absolute;top:4px;left:2px;white-space:nowrap}
.waveform{position:absolute;left:0;top:0;height:100%}
.waveform path{fill:#5b7fa8}
.waveform line{stroke:#5b7fa8;stroke-width:1px;vector-effect:non-scaling-stroke}
.box{position:absolute;box-sizing:border-box;overflow:hidden;white-space:nowrap;cursor:pointer}
.seg{top:3px;height:24px;padding:2px 4px;background:#e3ecf6;border:1px solid #7c9cc2;border-radius:3px}
.seg.flagged{background:repeating-linear-gradient(45deg,#fde2e0 0 6px,#f8c9c4 6px 12px);border:2px solid #c62828}
.flag{color:#b71c1c}
.word{top:0;bottom:0;background:hsla(var(--h),var(--s,70%),50%,.16);
border-left:1px solid hsl(var(--h),var(--s,60%),35%);border-right:1px solid hsl(var(--h),var(--s,60%),35%)}
.word span{display:block;margin:2px 2px;padding:0 2px;font-size:12px;background:rgba(255,255,255,.8);border-radius:2px;
overflow:hidden;text-overflow:ellipsis}
.token{top:2px;height:18px;font-size:11px;text-align:center;background:hsla(var(--h),var(--s,70%),50%,.25);
border-right:1px solid #fff}
.hover,.box.hover{outline:2px solid #1565c0}
.current{background:#ffe082 !important}
.playhead{position:absolute;top:0;bottom:0;left:0;width:0;border-left:2px solid #d32f2f;pointer-events:none;
display:none}
.transcript{padding:4px 16px 24px;max-width:1100px}
.transcript .line{border-left:4px solid transparent;padding:3px 8px;margin:2px 0}
.transcript .line.flagged{background:#fdecea;border-left-color:#c62828}
.n{color:#999;font-size:11px;margin-right:6px}
.w{cursor:pointer;border-radius:3px;padding:0 1px}
.w:hover{background:#e3f2fd}
.w.unaligned{color:#999;text-decoration:underline dotted}
"""

PAGE_SCRIPT = """
(function () {
  "use strict";
  var audio = document.getElementById("audio");
  var scroller = document.getElementById("scroller");
  var timeline = document.getElementById("timeline");
  var axis = document.getElementById("axis");
  var playhead = document.getElementById("playhead");
  var duration = parseFloat(timeline.getAttribute("data-duration"));
  var words = Array.prototype.slice.call(document.querySelectorAll(".transcript .w"));
  var times = words.map(function (w) {
    return [parseFloat(w.getAttribute("data-start")), parseFloat(w.getAttribute("data-end"))];
  });
  var pps = 100, stopAt = null, current = null, shown = -1;

  function layout(wanted) {
    pps = Math.max(scroller.clientWidth / duration, Math.min(wanted, 2000));
    timeline.style.width = Math.floor(duration * pps) + "px";
    var steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600], step = 3600;
    for (var i = 0; i < steps.length; i++) { if (steps[i] * pps >= 60) { step = steps[i]; break; } }
    axis.textContent = "";
    for (var k = 0; k * step <= duration; k++) {
      var t = k * step, tick = document.createElement("div"), label = document.createElement("span");
      tick.className = "tick";
      tick.style.left = (100 * t / duration) + "%";
      label.textContent = t >= 60 ? Math.floor(t / 60) + ":" + ("0" + (t % 60).toFixed(step < 1 ? 1 : 0)).slice(-2)
                                  : t.toFixed(step < 1 ? 1 : 0) + " s";
      tick.appendChild(label);
      axis.appendChild(tick);
    }
  }
  function same(index) { return document.querySelectorAll('[data-word="' + index + '"]'); }
  function toggle(el, name, on) {
    var index = el && el.getAttribute("data-word");
    if (index === null || index === undefined) { if (el) el.classList.toggle(name, on); return; }
    Array.prototype.forEach.call(same(index), function (x) { x.classList.toggle(name, on); });
  }
  function find(el) {
    var index = el.getAttribute("data-word");
    var box = index === null ? null : timeline.querySelector('.word[data-word="' + index + '"]');
    var left = scroller.scrollLeft;
    if (box && (box.offsetLeft < left || box.offsetLeft > left + scroller.clientWidth - 40)) {
      scroller.scrollLeft = box.offsetLeft - 40;
    }
  }
  function play(el) {
    find(el);
    var start = parseFloat(el.getAttribute("data-start")), end = parseFloat(el.getAttribute("data-end"));
    if (!audio || !(end > start)) return;
    var go = function () { audio.currentTime = start; stopAt = end; audio.play(); };
    if (audio.readyState >= 1) go(); else audio.addEventListener("loadedmetadata", go, {once: true});
  }
  document.addEventListener("click", function (event) {
    var zoom = event.target.closest("[data-zoom]");
    if (zoom) { layout(pps * (zoom.getAttribute("data-zoom") === "in" ? 1.5 : 1 / 1.5)); return; }
    var span = event.target.closest(".box[data-start], .w");
    if (span) play(span);
  });
  document.addEventListener("keydown", function (event) {
    if ((event.key === "Enter" || event.key === " ") && event.target.classList.contains("w")) {
      event.preventDefault(); play(event.target);
    }
  });
  document.addEventListener("mouseover", function (event) {
    var el = event.target.closest("[data-word]"); if (el) toggle(el, "hover", true);
  });
  document.addEventListener("mouseout", function (event) {
    var el = event.target.closest("[data-word]"); if (el) toggle(el, "hover", false);
  });
  function stop() {  // from rAF while the page is shown, from timeupdate (4 per second) while hidden
    var t = audio.currentTime;
    if (stopAt === null || t < stopAt) return;
    if (t < stopAt + 0.5) audio.pause();  // played past the end; further on, the user moved on: let it play
    stopAt = null;
  }
  function tick() {
    stop();
    var t = audio.currentTime, now = null;
    if (t !== shown) {
      shown = t;
      playhead.style.display = t > 0 ? "block" : "none";
      playhead.style.left = (100 * t / duration) + "%";
      for (var i = 0; i < times.length; i++) { if (times[i][0] <= t && t < times[i][1]) { now = words[i]; break; } }
      if (now !== current) { toggle(current, "current", false); toggle(now, "current", true); current = now; }
    }
    if (!audio.paused) {
      var x = t * pps;
      if (x < scroller.scrollLeft || x > scroller.scrollLeft + scroller.clientWidth - 40) scroller.scrollLeft = x - 40;
    }
    window.requestAnimationFrame(tick);
  }
  if (audio) {
    audio.addEventListener("error", function () {
      var note = document.createElement("p");
      note.className = "note";
      var src = audio.getAttribute("src");
      note.textContent = src.slice(0, 5) === "data:" ? "This browser cannot play the audio." :
        "The audio did not load from " + src + " (a path relative to this page's folder): keep the page and the " +
        "audio where they were, or align again.";
      audio.parentNode.parentNode.insertBefore(note, audio.parentNode.nextSibling);
    });
    audio.addEventListener("timeupdate", stop);
    audio.addEventListener("loadedmetadata", function () {
      document.documentElement.setAttribute("data-audio", "ready");
    });
    window.requestAnimationFrame(tick);
  }
  window.addEventListener("resize", function () { layout(pps); });
  layout(100);
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
