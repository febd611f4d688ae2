"""A rejection must say why and an information request must say what (DESIGN 3 and 6)."""

from __future__ import annotations

import pytest

from domain.errors import Invalid
from domain.lifecycle import Command, check_comment


@pytest.mark.parametrize("command", [Command.REJECT, Command.REQUEST_INFO])
@pytest.mark.parametrize("comment", ["", "   ", "\n\n"])
def test_a_rejection_or_a_question_without_a_comment_is_refused(
    command: Command, comment: str
) -> None:
    with pytest.raises(Invalid) as refused:
        check_comment(command, comment)

    assert (refused.value.code, refused.value.field) == ("comment_required", "comment")
    assert refused.value.detail == f"comment: a comment is required to {command.replace('_', ' ')}"


@pytest.mark.parametrize(
    ("command", "comment"),
    [
        (Command.APPROVE, ""),
        (Command.APPROVE, "Looks fine"),
        (Command.REJECT, "Lots not on the organic system plan."),
        (Command.REQUEST_INFO, "Which orchard?"),
        (Command.CONFIRM_ACTUALS, ""),
    ],
)
def test_other_decisions_and_given_comments_pass(command: Command, comment: str) -> None:
    check_comment(command, comment)
