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
                "city": {
                    "type": "string",
                    "description": "City name, e.g. Beijing",
                },
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}

# 2. The model does not run anything: it replies with a request to call a tool.
#    A RECORDED reply, in the shape chat APIs return, so this runs offline.
RECORDED_MODEL_REPLY = {
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

JSON_TYPES = {"string": str, "number": (int, float), "integer": int, "boolean": bool, "object": dict}


def validate(arguments, schema):
    """Check the arguments before running anything; return the problems."""
    problems = [
        f"missing {name!r}"
        for name in schema["required"]
        if name not in arguments
    ]
    for name, value in arguments.items():
        spec = schema["properties"].get(name)
        if spec is None:
            problems.append(f"unexpected {name!r}")
        elif not isinstance(value, JSON_TYPES[spec["type"]]):
            problems.append(f"{name!r} must be a {spec['type']}")
        elif "enum" in spec and value not in spec["enum"]:
            problems.append(f"{name!r} must be one of {spec['enum']}")
    return problems


def get_weather(city, unit="celsius"):
    """The real function. Here a fixed table stands in for a weather service."""
    celsius = {"Beijing": 3, "Paris": 9}[city]
    temperature = celsius if unit == "celsius" else celsius * 9 / 5 + 32
    return {
        "city": city,
        "temperature": temperature,
        "unit": unit,
        "sky": "clear",
    }


TOOLS = {"get_weather": get_weather}

# 3. The application validates each call, runs it, and sends the result back.
messages = [
    {"role": "user", "content": "What's the weather in Beijing and in Paris?"},
    RECORDED_MODEL_REPLY,
]
for call in RECORDED_MODEL_REPLY["tool_calls"]:
    name, arguments = (
        call["function"]["name"],
        json.loads(call["function"]["arguments"]),
    )
    problems = validate(arguments, WEATHER_TOOL["function"]["parameters"])
    result = (
        {"error": "; ".join(problems)} if problems else TOOLS[name](**arguments)
    )
    print(f"{call['id']}: {name}({arguments})\n  -> {result}")
    messages.append(
        {
            "role": "tool",
            "tool_call_id": call["id"],
            "content": json.dumps(result),
        }
    )

# 4. Next turn: the request resends the whole conversation, the assistant's tool calls
#    included (APIs refuse a tool message whose call is missing), and the model reads the
#    results and answers (or tries again).
print(f"\nthe next request sends all {len(messages)} messages: {[m['role'] for m in messages]}")
print("the tool messages it adds:")
print(json.dumps(messages[2:], indent=2))
