import json

# 1. The application describes its tools to the model as JSON Schema.
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "enum": ["Beijing", "Paris"]},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}

# 2. The model does not run anything: it replies with a request to call a tool.
#    A SCRIPTED reply (written by hand), in the shape chat APIs return, so this runs offline.
SCRIPTED_MODEL_REPLY = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {
                "name": "get_weather",
                "arguments": '{"city": "Beijing", "unit": "celsius"}',
            },
        },
        {
            "id": "call_2",
            "type": "function",
            "function": {
                "name": "get_weather",
                "arguments": '{"city": "Paris", "unit": "kelvin"}',
            },
        },
    ],
}

SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in [WEATHER_TOOL]}
# The JSON Schema types this small validator checks. It checks only "required", "type" and
# "enum", and refuses any key not in "properties", as additionalProperties: false asks (every
# tool here says so); it ignores every other keyword (minimum, maxLength, pattern, nested
# properties...): for real tools use a full validator such as jsonschema. Within that, it is
# stricter than JSON Schema in one way: "integer" rejects 5.0.
JSON_TYPES = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "object": dict}


def validate(arguments, schema):
    """Check the arguments before running anything; return the problems."""
    problems = [
        f"missing {name!r}"
        for name in schema.get("required", [])
        if name not in arguments
    ]
    for name, value in arguments.items():
        spec = schema.get("properties", {}).get(name)
        if spec is None:
            problems.append(f"unexpected {name!r}")
        elif not isinstance(spec.get("type"), str) or spec["type"] not in JSON_TYPES:  # e.g. ["string", "null"]
            problems.append(f"{name!r}: this small validator cannot check its schema")
        elif not isinstance(value, JSON_TYPES[spec["type"]]) or (
            isinstance(value, bool) and spec["type"] != "boolean"  # True is an int in Python
        ):
            problems.append(f"{name!r} must be a {spec['type']}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"{name!r} must be one of {spec['enum']}")
    return problems


def checked(call):
    """The call's tool name, arguments and problems. An unknown tool, arguments that are not
    JSON, or arguments that break the tool's schema are problems: then nothing runs."""
    name = call["function"]["name"]
    if name not in SCHEMAS:
        return name, None, [f"unknown tool {name!r}"]
    try:
        arguments = json.loads(call["function"]["arguments"])
    except json.JSONDecodeError as error:
        return name, None, [f"arguments are not JSON: {error.msg}"]
    if not isinstance(arguments, dict):
        return name, None, ["arguments must be a JSON object"]
    return name, arguments, validate(arguments, SCHEMAS[name])


def get_weather(city, unit="celsius"):
    """The real function. Here a fixed table stands in for a weather service."""
    celsius, sky = {"Beijing": (9, "sunny"), "Paris": (14, "cloudy")}[city]
    if unit not in ("celsius", "fahrenheit"):  # never reached after validation, but never guess
        raise ValueError(f"unknown unit {unit!r}")
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "sky": sky}


TOOLS = {"get_weather": get_weather}


def run_tool(name, arguments):
    """Run a checked call. It can still fail (a timeout, a service error): then the error is
    the result, for the model to read, and the conversation goes on."""
    try:
        return TOOLS[name](**arguments)
    except Exception as error:  # noqa: BLE001 (any failure of the tool, reported, never swallowed)
        return {"error": f"{name} failed: {type(error).__name__}: {error}"}


def tool_message(call):
    """3. The application validates a call, runs it only if valid, and answers it with the
    result or the error, as a tool message."""
    name, arguments, problems = checked(call)
    result = {"error": "; ".join(problems)} if problems else run_tool(name, arguments)
    print(f"{call['id']}: {name}({arguments})\n  -> {result}")
    return {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}


messages = [
    {"role": "user", "content": "What's the weather in Beijing and in Paris?"},
    SCRIPTED_MODEL_REPLY,
]
messages += [tool_message(call) for call in SCRIPTED_MODEL_REPLY["tool_calls"]]

# 4. Next turn: the request resends the whole conversation, the assistant's tool calls
#    included (APIs refuse a tool message whose call is missing), and the model reads the
#    results and answers, or tries again.
print(f"\nthe next request sends all {len(messages)} messages: {[m['role'] for m in messages]}")
print("the tool messages it adds:")
print(json.dumps(messages[2:], indent=2))

# 5. The model reads the error and tries again: another SCRIPTED reply, checked the same way.
SCRIPTED_RETRY = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_3",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
        }
    ],
}
print("\nthe model's next reply (scripted) retries the call that failed:")
messages += [SCRIPTED_RETRY, tool_message(SCRIPTED_RETRY["tool_calls"][0])]
print(f"the request after it sends {len(messages)} messages: a result for each city, to answer from")
