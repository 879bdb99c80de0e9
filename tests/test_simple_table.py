"""The CLI's plain tables are written by roofline (importing tabulate costs ~60 ms a command): the text must
be tabulate's ``simple`` format with ``disable_numparse``, character for character."""

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from roofline.outputs.format import render, simple_table

# what roofline's tables hold: ASCII, units (µ), ranges (–), multiplication signs; sometimes a line break
_TEXT = st.text(alphabet="ab Zz09.-–×µ%/:()\n", max_size=8)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(
    st.lists(_TEXT.filter(bool), min_size=n, max_size=n),
    st.lists(st.lists(st.one_of(_TEXT, st.none()), min_size=n, max_size=n), max_size=6))))
def test_simple_table_is_tabulates_simple_format(table):
    hdr, body = table
    assert simple_table(body, hdr) == tabulate(body, hdr, tablefmt="simple", disable_numparse=True)


def test_a_table_by_hand():
    # widths: max(cell, heading + 2): "quantity" 8+2 = 10 > "bound" 5; "value" 5+2 = 7 > "1.5 ms" 6
    text = render([{"quantity": "bound", "value": "1.5 ms"}], "table")
    assert text.splitlines() == ["quantity    value", "----------  -------", "bound       1.5 ms"]
