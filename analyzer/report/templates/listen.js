/* mixanalyzer listening player (issue 18). Everything it plays is embedded in the page: the
   clips as base64 Ogg Opus (decodeAudioData), the device graphs as base64 float32 FIRs; no
   request leaves the page. The same graph builders serve the live player and the offline
   renders the test suite asks for (window.mixanalyzerListen). */
(function () {
  "use strict";
  var el = document.getElementById("mixanalyzer-listen");
  if (!el) { return; }
  var spec = JSON.parse(el.textContent);
  var RATE = spec.rate_hz;
  var FADE_S = 0.02; /* A/B crossfade, centred on the switch time */
  var NOISE_LOOP_S = 4.0;

  function bytes(b64) {
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function floats(b64) { return new Float32Array(bytes(b64).buffer); }
  function toB64(f32) {
    var u = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength), parts = [];
    for (var i = 0; i < u.length; i += 0x8000) {
      parts.push(String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)));
    }
    return btoa(parts.join(""));
  }
  function dbToGain(db) { return Math.pow(10, db / 20); }

  /* The renderer's limiter (analyzer/playback/render.py, _BandLimiter), one per band input:
     power envelope of the stereo-linked band per chunk, attack/release, gain ramped per sample
     one chunk late. Thresholds arrive already mapped to signal dB (10 log10(2 ms)). */
  var LIMITER_JS = [
    "class MixLimiter extends AudioWorkletProcessor {",
    " constructor(o) { super(); var p = o.processorOptions; this.p = p;",
    "  this.s = p.thresholds.map(function () { return {env: 0, acc: 0, pos: 0, gp: 1, gc: 1}; }); }",
    " gain(env, thr) { if (env <= 0) return 1; var over = 10 * Math.log10(2 * env) - thr;",
    "  return over > 0 ? Math.pow(10, over * this.p.slope / 20) : 1; }",
    " process(inputs, outputs) { var out = outputs[0], p = this.p, n = out[0].length;",
    "  for (var c = 0; c < out.length; c++) out[c].fill(0);",
    "  for (var k = 0; k < inputs.length; k++) { var inp = inputs[k]; if (!inp.length) continue;",
    "   var l = inp[0], r = inp.length > 1 ? inp[1] : inp[0], thr = p.thresholds[k], s = this.s[k];",
    "   for (var i = 0; i < n; i++) { var g = 1;",
    "    if (thr !== null) { s.acc += 0.5 * (l[i] * l[i] + r[i] * r[i]); s.pos += 1;",
    "     g = s.gp + (s.gc - s.gp) * (s.pos / p.chunk);",
    "     if (s.pos === p.chunk) { var m = s.acc / p.chunk;",
    "      s.env += (m > s.env ? p.a_att : p.a_rel) * (m - s.env);",
    "      s.gp = s.gc; s.gc = this.gain(s.env, thr); s.acc = 0; s.pos = 0; } }",
    "    out[0][i] += l[i] * g; out[1][i] += r[i] * g; } }",
    "  return true; } }",
    "registerProcessor('mixanalyzer-limiter', MixLimiter);"
  ].join("\n");
  var limiterUrl = null;
  function loadLimiter(ctx) {
    /* A data: URL: a blob: URL of a file:// page has an opaque origin the worklet refuses. */
    if (!limiterUrl) { limiterUrl = "data:text/javascript," + encodeURIComponent(LIMITER_JS); }
    return ctx.audioWorklet.addModule(limiterUrl);
  }

  function decodeClips(ctx) {
    return Promise.all(spec.clips.map(function (c) {
      return ctx.decodeAudioData(bytes(c.opus).buffer);
    }));
  }

  function convolver(ctx, b64) {
    var h = floats(b64), buf = ctx.createBuffer(1, h.length, RATE);
    buf.copyToChannel(h, 0);
    var node = new ConvolverNode(ctx, {disableNormalization: true, channelCount: 1,
                                       channelCountMode: "explicit"});
    node.buffer = buf;
    return node;
  }
  function gainNode(ctx, g, channels) {
    var opts = {gain: g};
    if (channels) { opts.channelCount = channels; opts.channelCountMode = "explicit";
                    opts.channelInterpretation = "speakers"; }
    return new GainNode(ctx, opts);
  }
  /* Seeded Gaussian noise (mulberry32 + Box-Muller), one independent stream per channel. */
  function noiseBuffer(ctx, seconds, seed) {
    var n = Math.round(seconds * RATE), buf = ctx.createBuffer(2, n, RATE), a = seed >>> 0;
    function rnd() {
      a = (a + 0x6D2B79F5) >>> 0; var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
    }
    for (var c = 0; c < 2; c++) {
      var d = buf.getChannelData(c);
      for (var i = 0; i < n; i++) {
        d[i] = Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
      }
    }
    return buf;
  }

  /* One device between `input` (any node) and `output`. `playLufs` is the integrated loudness
     of what plays (the playback mapping SPL = dBFS - LUFS + level places it at the device's
     level); null (silence) bypasses the limiter and the noise, as the renderer does. */
  function buildDevice(ctx, dev, input, output, playLufs) {
    var nodes = [], latency = 0;
    function keep(n) { nodes.push(n); return n; }
    var offset = playLufs === null ? null : dev.level_db_spl - playLufs;
    var stereo = keep(gainNode(ctx, 1, 2));
    input.connect(stereo);
    var split = keep(ctx.createChannelSplitter(2));
    stereo.connect(split);
    var mid = keep(gainNode(ctx, 1, 1));
    split.connect(keep(gainNode(ctx, 0.5)), 0).connect(mid);
    split.connect(keep(gainNode(ctx, 0.5)), 1).connect(mid);
    var midOut = dev.ir_mid ? mid.connect(keep(convolver(ctx, dev.ir_mid))) : mid;
    var merge = keep(ctx.createChannelMerger(2));
    midOut.connect(merge, 0, 0);
    midOut.connect(merge, 0, 1);
    if (!dev.mono) {
      var side = keep(gainNode(ctx, dev.side_gain, 1));
      split.connect(keep(gainNode(ctx, 0.5)), 0).connect(side);
      split.connect(keep(gainNode(ctx, -0.5)), 1).connect(side);
      var ir = dev.ir_side || dev.ir_mid;
      var sideOut = ir ? side.connect(keep(convolver(ctx, ir))) : side;
      sideOut.connect(merge, 0, 0);
      sideOut.connect(keep(gainNode(ctx, -1))).connect(merge, 0, 1);
    }
    var post = merge;
    if (dev.limiter && offset !== null) {
      var lim = dev.limiter;
      var work = keep(new AudioWorkletNode(ctx, "mixanalyzer-limiter", {
        numberOfInputs: lim.thresholds_db.length, numberOfOutputs: 1, outputChannelCount: [2],
        channelCount: 2, channelCountMode: "explicit",
        processorOptions: {
          thresholds: lim.thresholds_db.map(function (t) { return t === null ? null : t - offset; }),
          slope: lim.slope, chunk: lim.chunk, a_att: lim.a_att, a_rel: lim.a_rel
        }
      }));
      if (lim.bands.length) {
        lim.bands.forEach(function (b, k) {
          var c = keep(convolver(ctx, b));
          c.channelCount = 2;
          merge.connect(c).connect(work, 0, k);
        });
      } else {
        merge.connect(work, 0, 0);
      }
      post = work;
      latency = lim.latency_frames;
    }
    var bal = keep(ctx.createChannelSplitter(2)), out = keep(ctx.createChannelMerger(2));
    post.connect(bal);
    bal.connect(keep(gainNode(ctx, dev.gain_left)), 0).connect(out, 0, 0);
    var right = bal.connect(keep(gainNode(ctx, dev.gain_right)), 1);
    if (dev.right_delay_frames) {
      right = right.connect(keep(new DelayNode(ctx, {delayTime: dev.right_delay_frames / RATE,
                                                    maxDelayTime: 1})));
    }
    right.connect(out, 0, 1);
    out.connect(output);
    if (dev.noise_ir && offset !== null) {
      var src = keep(new AudioBufferSourceNode(ctx, {buffer: noiseBuffer(ctx, NOISE_LOOP_S, 1),
                                                     loop: true}));
      var nc = keep(convolver(ctx, dev.noise_ir));
      nc.channelCount = 2;
      src.connect(nc).connect(keep(gainNode(ctx, dbToGain(-offset)))).connect(output);
      src.start(0);
    }
    return {nodes: nodes, latency: latency};
  }

  /* The clips in sync: one looping source per clip, each through its gain (loudness match x
     selection), all into `bus`; every source starts at the same time and position. */
  function mixer(ctx, buffers, gainsDb, selected, bus, when, offsetS, loopS) {
    var m = {sources: [], gains: [], gainsDb: gainsDb.slice(), selected: selected};
    buffers.forEach(function (b, i) {
      var s = new AudioBufferSourceNode(ctx, {buffer: b, loop: true, loopStart: 0, loopEnd: loopS});
      var g = gainNode(ctx, i === selected ? dbToGain(gainsDb[i]) : 0, 2);
      s.connect(g).connect(bus);
      s.start(when, offsetS % loopS);
      m.sources.push(s); m.gains.push(g);
    });
    return m;
  }
  /* Switch to clip `idx` with a linear crossfade of FADE_S centred on `atS` (context time). */
  function switchTo(m, idx, atS) {
    var t0 = Math.max(0, atS - FADE_S / 2), t1 = atS + FADE_S / 2;
    m.gains.forEach(function (g, i) {
      var want = i === idx ? dbToGain(m.gainsDb[i]) : 0;
      g.gain.cancelScheduledValues(t0);
      g.gain.setValueAtTime(i === m.selected ? dbToGain(m.gainsDb[i]) : 0, t0);
      g.gain.linearRampToValueAtTime(want, t1);
    });
    m.selected = idx;
  }

  function matchedGains() { return spec.clips.map(function (c) { return c.matched_gain_db; }); }
  function playLufs(matched) {
    if (matched) { return spec.target_lufs; }
    return spec.clips[0].integrated_lufs; /* the mix sets the volume */
  }
  function deviceByName(name) {
    return spec.devices.filter(function (d) { return d.name === name; })[0];
  }

  /* ---- offline renders for the test suite ---- */
  function offline(frames) { return new OfflineAudioContext(2, frames, RATE); }
  var decodedCache = null;
  function decoded() {
    if (!decodedCache) { decodedCache = decodeClips(offline(RATE)); }
    return decodedCache;
  }
  function channelsB64(buf, skip, frames) {
    var out = [];
    for (var c = 0; c < buf.numberOfChannels; c++) {
      out.push(toB64(buf.getChannelData(c).slice(skip, skip + frames)));
    }
    return out;
  }
  window.mixanalyzerListen = {
    spec: function () {
      return {rate_hz: RATE, target_lufs: spec.target_lufs, devices: spec.devices.map(function (d) {
        return {name: d.name, linear: d.linear, level_db_spl: d.level_db_spl}; }),
        clips: spec.clips.map(function (c) { return {name: c.name, matched_gain_db: c.matched_gain_db,
          integrated_lufs: c.integrated_lufs}; })};
    },
    decodedClip: function (i, seconds) {
      return decoded().then(function (bufs) {
        return channelsB64(bufs[i], 0, Math.min(bufs[i].length, Math.round(seconds * RATE)));
      });
    },
    /* `louderDb` plays the device that much louder than the mapping says (the test drives the
       limiters into gain reduction with it). */
    renderDevice: function (i, name, seconds, matched, louderDb) {
      var dev = deviceByName(name), frames = Math.round(seconds * RATE);
      var lufs = playLufs(matched) === null ? null : playLufs(matched) - (louderDb || 0);
      return decoded().then(function (bufs) {
        var lat = dev.limiter ? dev.limiter.latency_frames : 0, ctx = offline(frames + lat);
        return loadLimiter(ctx).then(function () {
          var gain = matched ? spec.clips[i].matched_gain_db : 0;
          var src = new AudioBufferSourceNode(ctx, {buffer: bufs[i]});
          var g = gainNode(ctx, dbToGain(gain), 2);
          src.connect(g);
          var built = buildDevice(ctx, dev, g, ctx.destination, lufs);
          src.start(0);
          return ctx.startRendering().then(function (out) {
            return {channels: channelsB64(out, built.latency, frames), gain_db: gain,
                    play_lufs: lufs};
          });
        });
      });
    },
    renderSwitch: function (a, b, atS, seconds) {
      var frames = Math.round(seconds * RATE);
      return decoded().then(function (bufs) {
        var ctx = offline(frames), bus = gainNode(ctx, 1, 2);
        bus.connect(ctx.destination);
        var loopS = Math.min.apply(null, bufs.map(function (x) { return x.duration; }));
        var m = mixer(ctx, bufs, matchedGains(), a, bus, 0, 0, loopS);
        switchTo(m, b, atS);
        return ctx.startRendering().then(function (out) { return channelsB64(out, 0, frames); });
      });
    }
  };

  /* ---- the live player ---- */
  var root = document.getElementById("listen");
  if (!root) { return; }
  var q = function (sel) { return root.querySelector(sel); };
  var playBtn = q("#listen-play"), pos = q("#listen-pos"), timeEl = q("#listen-time");
  var matchBox = q("#listen-matched"), loopBox = q("#listen-loop"), devSel = q("#listen-device");
  var clipBtns = Array.prototype.slice.call(root.querySelectorAll("button[data-clip]"));
  var approx = q("#listen-approx");
  var st = {ctx: null, bufs: null, m: null, bus: null, dev: null, devOut: null, playing: false,
            t0: 0, off: 0, sel: 0, loopS: 0};

  function currentPos() {
    if (!st.playing) { return st.off; }
    var p = st.off + st.ctx.currentTime - st.t0;
    return loopBox.checked ? p % st.loopS : Math.min(p, st.loopS);
  }
  function gainsDb() {
    return matchBox.checked ? matchedGains() : spec.clips.map(function () { return 0; });
  }
  function ensure() {
    if (st.ctx) { return Promise.resolve(); }
    st.ctx = new AudioContext({sampleRate: RATE});
    return Promise.all([decodeClips(st.ctx), loadLimiter(st.ctx)]).then(function (r) {
      st.bufs = r[0];
      st.loopS = Math.min.apply(null, st.bufs.map(function (b) { return b.duration; }));
      pos.max = String(st.loopS);
    });
  }
  function connectDevice() {
    if (st.devOut) { st.devOut.disconnect(); }
    if (st.dev) { st.dev.nodes.forEach(function (n) { try { n.disconnect(); if (n.stop) { n.stop(); } } catch (e) { /* already stopped */ } }); }
    var dev = deviceByName(devSel.value);
    st.bus = gainNode(st.ctx, 1, 2);
    st.devOut = gainNode(st.ctx, 1, 2);
    st.devOut.connect(st.ctx.destination);
    st.dev = buildDevice(st.ctx, dev, st.bus, st.devOut, playLufs(matchBox.checked));
    approx.textContent = dev.approximation;
  }
  function stopSources() {
    if (st.m) { st.m.sources.forEach(function (s) { s.stop(); s.disconnect(); }); st.m = null; }
  }
  function start(at) {
    stopSources();
    connectDevice();
    st.off = at; st.t0 = st.ctx.currentTime + 0.05;
    st.m = mixer(st.ctx, st.bufs, gainsDb(), st.sel, st.bus, st.t0, at, st.loopS);
    if (!loopBox.checked) { st.m.sources.forEach(function (s) { s.loop = false; }); }
    st.playing = true;
    playBtn.textContent = "Pause";
  }
  function pause() {
    st.off = currentPos(); stopSources(); st.playing = false; playBtn.textContent = "Play";
  }
  function toggle() {
    ensure().then(function () { if (st.playing) { pause(); } else { start(st.off); } });
  }
  function select(i) {
    if (i < 0 || i >= spec.clips.length) { return; }
    st.sel = i;
    clipBtns.forEach(function (b) { b.setAttribute("aria-pressed", String(Number(b.dataset.clip) === i)); });
    if (st.playing && st.m) { switchTo(st.m, i, st.ctx.currentTime + FADE_S); }
  }
  function seek(s) {
    var p = Math.max(0, Math.min(s, st.loopS || spec.clip_s));
    if (st.playing) { start(p); } else { st.off = p; }
  }
  function restartIfPlaying() { if (st.playing) { start(currentPos()); } }
  playBtn.addEventListener("click", toggle);
  clipBtns.forEach(function (b) { b.addEventListener("click", function () { select(Number(b.dataset.clip)); }); });
  pos.addEventListener("input", function () { ensure().then(function () { seek(Number(pos.value)); }); });
  matchBox.addEventListener("change", restartIfPlaying);
  loopBox.addEventListener("change", restartIfPlaying);
  devSel.addEventListener("change", function () {
    approx.textContent = deviceByName(devSel.value).approximation;
    restartIfPlaying();
  });
  document.addEventListener("keydown", function (e) {
    if (e.target && /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) && e.key !== " ") { return; }
    if (e.key === " ") { e.preventDefault(); toggle(); }
    else if (e.key >= "1" && e.key <= "5") { select(Number(e.key) - 1); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); seek(currentPos() - 5); }
    else if (e.key === "ArrowRight") { e.preventDefault(); seek(currentPos() + 5); }
    else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      e.preventDefault();
      var k = devSel.selectedIndex + (e.key === "ArrowDown" ? 1 : -1);
      devSel.selectedIndex = Math.max(0, Math.min(devSel.options.length - 1, k));
      devSel.dispatchEvent(new Event("change"));
    }
  });
  (function tick() {
    if (st.playing) {
      var p = currentPos();
      pos.value = String(p);
      timeEl.textContent = p.toFixed(1) + " s";
      if (!loopBox.checked && p >= st.loopS) { pause(); st.off = 0; }
    }
    window.requestAnimationFrame(tick);
  })();
  approx.textContent = deviceByName(devSel.value).approximation;
})();
