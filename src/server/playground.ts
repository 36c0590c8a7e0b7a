// The playground page `tslm serve` shows at `/`: one self-contained HTML file (no build step, no
// external assets) with a chat box that streams replies from /v1/chat/completions through fetch()
// and a ReadableStream SSE parser, and shows time to first token and tokens/s. It uses only the
// public API, so it doubles as a worked example of a browser client.
//
// Element ids are a contract with test/server/playground_browser.test.ts: #input, #send, #stop,
// #reset, #messages (one .msg.user / .msg.assistant per turn), #stats, #status, #temperature,
// #max-tokens.

/** The page, with the served model's id filled in. */
export function playgroundHtml(modelId: string): string {
  const id = JSON.stringify(modelId).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tslm playground</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; background: #f6f6f4; color: #222; }
  main { max-width: 760px; margin: 0 auto; padding: 16px; display: flex; flex-direction: column; height: 100vh; box-sizing: border-box; }
  header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
  h1 { font-size: 18px; margin: 0; }
  #messages { flex: 1; overflow-y: auto; margin: 12px 0; padding: 8px; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
  .msg { white-space: pre-wrap; margin: 6px 0; padding: 6px 10px; border-radius: 6px; }
  .msg.user { background: #e8f0fe; }
  .msg.assistant { background: #f1f1ef; }
  .msg.error { background: #fde8e8; color: #900; }
  form { display: flex; gap: 8px; }
  #input { flex: 1; font: inherit; padding: 8px; }
  label { font-size: 13px; color: #555; }
  input[type=number] { width: 5em; }
  #stats { font-size: 13px; color: #555; min-height: 1.4em; }
</style>
</head>
<body>
<main>
  <header>
    <h1>tslm playground</h1>
    <span>model <code id="model"></code></span>
    <label>temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0.8"></label>
    <label>max tokens <input id="max-tokens" type="number" min="1" step="1" value="64"></label>
    <label>system <input id="system" type="text" placeholder="(none)"></label>
  </header>
  <div id="messages" aria-live="polite"></div>
  <div id="stats"></div>
  <form id="form">
    <input id="input" autocomplete="off" placeholder="Say something" autofocus>
    <button id="send" type="submit">Send</button>
    <button id="stop" type="button" disabled>Stop</button>
    <button id="reset" type="button">Reset</button>
  </form>
  <div id="status" hidden></div>
</main>
<script>
"use strict";
const MODEL = ${id};
const $ = (s) => document.querySelector(s);
$("#model").textContent = MODEL;
let history = [];
let busy = false;
let controller = null;

function addMessage(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("#messages").appendChild(div);
  $("#messages").scrollTop = $("#messages").scrollHeight;
  return div;
}

// Reads an SSE body: yields each "data:" payload (a JSON chunk, or "[DONE]").
async function* sse(body) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let cut;
    while ((cut = buf.indexOf("\\n\\n")) >= 0) {
      const event = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      for (const line of event.split("\\n")) if (line.startsWith("data: ")) yield line.slice(6);
    }
  }
}

async function send(text) {
  busy = true;
  controller = new AbortController();
  $("#send").disabled = true;
  $("#stop").disabled = false;
  $("#status").textContent = "generating";
  history.push({ role: "user", content: text });
  addMessage("user", text);
  const out = addMessage("assistant", "");
  const system = $("#system").value.trim();
  const messages = system ? [{ role: "system", content: system }, ...history] : history;
  const t0 = performance.now();
  let tFirst = 0, pieces = 0, reply = "", usage = null, finish = null;
  try {
    const res = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages, stream: true, stream_options: { include_usage: true },
        temperature: Number($("#temperature").value), max_tokens: Number($("#max-tokens").value) }),
      signal: controller.signal,
    });
    if (!res.ok) {
      const err = await res.json().catch(() => ({ error: { message: res.statusText } }));
      throw new Error(err.error ? err.error.message : res.statusText);
    }
    for await (const data of sse(res.body)) {
      if (data === "[DONE]") break;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices) {
        if (c.delta && c.delta.content) {
          if (!tFirst) tFirst = performance.now();
          pieces++;
          reply += c.delta.content;
          out.textContent = reply;
        }
        if (c.finish_reason) finish = c.finish_reason;
      }
      const now = performance.now();
      const rate = tFirst && now > tFirst ? (pieces / ((now - tFirst) / 1000)).toFixed(1) : "-";
      $("#stats").textContent = "first token " + (tFirst ? (tFirst - t0).toFixed(0) + " ms" : "-") + " · " + rate + " tokens/s";
    }
    history.push({ role: "assistant", content: reply });
    const tEnd = performance.now();
    const tokens = usage ? usage.completion_tokens : pieces;
    const decode = tFirst && tokens > 1 ? ((tokens - 1) / ((tEnd - tFirst) / 1000)).toFixed(1) : "-";
    $("#stats").textContent = tokens + " tokens · first token " + (tFirst ? (tFirst - t0).toFixed(0) + " ms" : "-") +
      " · " + decode + " tokens/s · finish " + finish;
    $("#status").textContent = "done";
  } catch (e) {
    if (e.name === "AbortError") {
      // Stopped by the user: keep what arrived (closing the stream cancels it on the server).
      history.push({ role: "assistant", content: reply });
      $("#status").textContent = "stopped";
    } else {
      history.pop();
      out.remove();
      addMessage("error", "error: " + e.message);
      $("#status").textContent = "error";
    }
  } finally {
    busy = false;
    controller = null;
    $("#send").disabled = false;
    $("#stop").disabled = true;
  }
}

$("#form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("#input").value.trim();
  if (!text || busy) return;
  $("#input").value = "";
  send(text);
});
$("#stop").addEventListener("click", () => {
  if (controller) controller.abort();
});
$("#reset").addEventListener("click", () => {
  history = [];
  $("#messages").textContent = "";
  $("#stats").textContent = "";
});
</script>
</body>
</html>
`;
}
