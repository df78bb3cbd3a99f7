"""The labelled sets behind the site's measured rates: big enough to mean something (at least
50 items behind every rate), and held-out items never seen in a prompt or in training."""

import importlib.util
import json
import re

from jsonschema import Draft202012Validator

from tests.conftest import REPO

DATA = REPO / "snippets" / "data"


def load(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def test_the_review_task_scores_on_held_out_reviews_only():
    reviews = load("reviews.json")
    train, held_out = reviews["train"], reviews["held_out"]
    texts = [text for text, _ in held_out]
    assert len(held_out) >= 50 and len(set(texts)) == len(texts)
    assert {label for _, label in train + held_out} == {"positive", "negative"}
    positives = sum(label == "positive" for _, label in held_out)
    assert positives * 2 == len(held_out), "a balanced set: always-positive scores exactly half"
    # Few-shot examples and LoRA's training data come from `train`: none may be scored.
    assert not {text.casefold() for text in texts} & {text.casefold() for text, _ in train}


def test_the_retrieval_and_abstention_sets_have_enough_questions():
    answerable, unanswerable = load("retrieval_questions.json"), load("unanswerable_questions.json")
    assert len(answerable) >= 50 and all(item["question"] and item["answer"] for item in answerable)
    assert len(unanswerable) >= 50 and len(set(unanswerable)) == len(unanswerable)
    asked = {item["question"].casefold() for item in answerable}
    assert not asked & {question.casefold() for question in unanswerable}


def test_each_answer_pattern_compiles_and_a_reply_that_echoes_the_question_fails_it():
    for item in load("retrieval_questions.json"):
        pattern = re.compile(item["expect"], re.IGNORECASE)
        assert not pattern.search(item["question"]), f"an echo of {item['question']!r} would count as right"


def test_each_tool_request_expects_one_valid_call_and_none_is_asked_twice():
    spec = importlib.util.spec_from_file_location("tools_app", REPO / "snippets" / "tools_app.py")
    tools_app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tools_app)  # the schemas the snippets validate calls with
    requests = load("tool_requests.json")["requests"]
    assert len(requests) >= 50 and len({item["request"].casefold() for item in requests}) == len(requests)
    for item in requests:
        assert not list(Draft202012Validator(tools_app.CALL_SCHEMA).iter_errors(item["call"])), item["request"]
    # Both tools are asked for, so a model that always names one tool cannot score above half.
    named = [item["call"]["name"] for item in requests]
    assert named.count("get_weather") * 2 == len(requests)
