"""The minifiers keep every rule, selector and statement as it was."""

from scripts.site import minify


def test_comments_and_spaces_go():
    assert minify.css("/* a note */\n.a {\n  margin: 0 1em;\n  color: red;\n}\n") == ".a{margin:0 1em;color:red}"


def test_a_descendant_pseudo_class_keeps_its_space():
    assert minify.css(".md-typeset :is(h1, h2) > p { x: 1 }") == ".md-typeset :is(h1,h2)>p{x:1}"


def test_media_queries_and_strings_survive():
    css = '@media screen and (max-width: 600px) { .b::after { content: ""; } }'
    assert minify.css(css) == '@media screen and (max-width:600px){.b::after{content:""}}'


def test_script_comment_lines_go_and_code_stays():
    script = '/*\n * header\n */\n(function () {\n  // a note\n  const url = "a//b";  // kept: after code\n})();\n'
    assert minify.js(script) == '(function () {\nconst url = "a//b";  // kept: after code\n})();\n'


def test_code_spans_that_show_as_plain_text_go_and_the_others_stay():
    html = ('<code><span class="n">model</span><span class="w"> </span>'
            '<span class="o">=</span> <span class="p">(</span></code>')
    assert minify.plain_code(html) == '<code>model <span class="o">=</span> <span class="p">(</span></code>'
    builtin = '<span class="nb">len</span>'  # a builtin keeps its colour
    assert minify.plain_code(builtin) == builtin
