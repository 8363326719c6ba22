"""The FAAM's wording in Spanish: every item, answer and the question are translated (our own
translation, not the validated Spanish FAAM: docs/questionnaires.md), and the function finding
is worded in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext

from rehab import function_scores
from rehab.models import ReevaluationStatus


@pytest.mark.parametrize(
    "text",
    [
        *(item.text for item in function_scores.FAAM_ITEMS),
        *function_scores.FAAM_ANSWERS.values(),
        function_scores.FAAM_ADL_QUESTION,
    ],
)
def test_every_faam_text_has_its_spanish(text):
    with translation.override("es"):
        assert gettext(text) != text


def test_running_the_faam_item_is_not_running_the_re_evaluation():
    with translation.override("es"):
        assert gettext(function_scores.FAAM_ITEMS_BY_LINK_ID["sports-1"].text) == "Correr"
        assert str(ReevaluationStatus.RUNNING.label) == "En curso"
