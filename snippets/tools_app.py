"""The application side of function calling: two tools, their JSON schemas, the prompt that
shows them to SmolLM2, and the code that parses, validates and executes a call.

Imported by tool_calls.py, tool_calls_constrained.py and agent_loop.py; save it beside them.
The requests they ask, each with the call that serves it, are in data/tool_requests.json."""
import json
import re

from jsonschema import Draft202012Validator

USD_PER_UNIT = {"USD": 1.0, "EUR": 1.16, "CNY": 0.14}  # made-up, fixed rates
WEATHER = {"Paris": (14, "cloudy"), "Tokyo": (18, "rain"), "Beijing": (9, "sunny"), "Cairo": (27, "sunny")}


def get_weather(city, unit="celsius"):
    """A stand-in for a weather API: fixed data, so the page is the same on every run."""
    degrees, sky = WEATHER[city]
    if unit not in ("celsius", "fahrenheit"):  # the schema allows no other; never guess
        raise ValueError(f"unknown unit {unit!r}")
    return {"city": city, "temperature": degrees if unit == "celsius" else round(degrees * 9 / 5 + 32), "unit": unit, "sky": sky}


def convert_currency(amount, source, target):
    """A stand-in for an exchange-rate API."""
    return {"amount": round(amount * USD_PER_UNIT[source] / USD_PER_UNIT[target], 2), "currency": target}


TOOLS = [
    {"name": "get_weather", "description": "Current weather in a city.",
     "parameters": {"type": "object", "additionalProperties": False, "required": ["city"], "properties": {
         "city": {"type": "string", "enum": sorted(WEATHER)},
         "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}},
    {"name": "convert_currency", "description": "Convert an amount of money between currencies.",
     "parameters": {"type": "object", "additionalProperties": False, "required": ["amount", "source", "target"],
                    "properties": {"amount": {"type": "number"},
                                   "source": {"type": "string", "enum": ["CNY", "EUR", "USD"]},
                                   "target": {"type": "string", "enum": ["CNY", "EUR", "USD"]}}}},
]
FUNCTIONS = {"get_weather": get_weather, "convert_currency": convert_currency}
# One call: a tool's name and arguments that match that tool's parameters.
CALL_SCHEMA = {"anyOf": [{"type": "object", "additionalProperties": False, "required": ["name", "arguments"],
                          "properties": {"name": {"const": t["name"]}, "arguments": t["parameters"]}}
                         for t in TOOLS]}

# The tool-calling system prompt SmolLM2-1.7B-Instruct was trained with (published with it as
# instructions_function_calling.md). The 135M model run here was not fine-tuned for function
# calling: its fine-tuning data left it out. Its chat template has no slot for tools, so the
# schemas go in here.
PROMPT = """You are an expert in composing functions. You are given a question and a set of possible functions.
Based on the question, you will need to make one or more function/tool calls to achieve the purpose.
If none of the functions can be used, point it out and refuse to answer.
If the given question lacks the parameters required by the function, also point it out.

You have access to the following tools:
<tools>{tools}</tools>

The output MUST strictly adhere to the following format, and NO other text MUST be included.
{output_format}"""
SYSTEM = PROMPT.format(tools=json.dumps(TOOLS), output_format="""The example format is as follows. Please make sure the parameter type is correct. If no function call is needed, please make the tool calls an empty list '[]'.
<tool_call>[
{"name": "func_name1", "arguments": {"argument1": "value1", "argument2": "value2"}},
... (more tool calls as required)
]</tool_call>""")
# The same prompt, asking for what a constrained decoder lets through: one call, no tags.
SYSTEM_ONE_CALL = PROMPT.format(tools=json.dumps(TOOLS), output_format="""Reply with exactly one call, as one JSON object:
{"name": "func_name", "arguments": {"argument1": "value1", "argument2": "value2"}}""")


def parse_call(reply):
    """The first call in a reply, validated against its tool's schema: (call, None), or
    (None, the reason it is not a valid call). Calls after the first are ignored: every
    request here needs one."""
    found = re.search(r"<tool_call>(.*?)</tool_call>", reply, re.DOTALL)
    try:
        calls = json.loads(found.group(1) if found else reply)
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg})"
    if calls == []:
        return None, "no call ([])"  # what the prompt asks for when no tool fits
    call = calls[0] if isinstance(calls, list) else calls
    errors = sorted(Draft202012Validator(CALL_SCHEMA).iter_errors(call), key=str)
    return (call, None) if not errors else (None, f"fails the schema: {errors[0].message[:60]}")


def same_call(call, expected):
    """Whether a call does what the expected one does (a left-out unit is the default)."""
    with_default = lambda c: {**c, "arguments": {**({"unit": "celsius"} if c["name"] == "get_weather" else {}), **c["arguments"]}}  # noqa: E731
    return call is not None and with_default(call) == with_default(expected)


def execute(call):
    """Run the validated call: the application, never the model, runs code. A valid call can
    still fail (a timeout, a service error): the error is its result, for the model to read,
    as Anthropic's is_error tool results are, and the loop goes on."""
    try:
        return FUNCTIONS[call["name"]](**call["arguments"])
    except Exception as error:  # noqa: BLE001 (any failure of the tool, reported, never swallowed)
        return {"error": f"{call['name']} failed: {type(error).__name__}: {error}"}
