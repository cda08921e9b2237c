"""JQL's reserved words: bare, they are an error; quoted, they are ordinary values.

The list is Atlassian's ("Advanced searching - keywords reference", "Reserved words").
The keywords the grammar itself uses (AND, OR, NOT, IN, IS, EMPTY, NULL, ORDER, BY, ASC,
DESC) are among them.
"""

from __future__ import annotations

RESERVED_WORDS = frozenset(
    # One string, laid out as Atlassian prints the list, is easier to check against it.
    """
    abort access add after alias all alter and any as asc audit avg before begin between
    boolean break by byte catch cf char character check checkpoint collate collation
    column commit connect continue count create current date decimal declare decrement
    default defaults define delete delimiter desc difference distinct divide do double
    drop else empty encoding end equals escape exclusive exec execute exists explain
    false fetch file field first float for from function go goto grant greater group
    having identified if immediate in increment index initial inner inout input insert
    int integer intersect intersection into is isempty isnull join last left less like
    limit lock long max min minus mode modify modulo more multiply next noaudit not
    notin nowait null number object of on option or order outer output power previous
    prior privileges public raise raw remainder rename resume return returns revoke
    right row rowid rownum rows select session set share size sqrt start string subtract
    sum synonym table then to trans transaction trigger true uid union unique update
    user validate values view when whenever where while with
    """.split()  # noqa: SIM905
)
