"""One set of plain words for crime types: every canonical type has a display name."""

from __future__ import annotations

import doctest

import hotspots.vocabulary as vocabulary
from hotspots.config.sections import CANONICAL_CRIME_TYPES
from hotspots.vocabulary import CRIME_TYPE_LABELS, crime_type_label, crime_type_list


def test_every_canonical_type_has_a_display_name_without_underscores():
    assert set(CRIME_TYPE_LABELS) == set(CANONICAL_CRIME_TYPES)
    for code in CANONICAL_CRIME_TYPES:
        label = crime_type_label(code)
        assert "_" not in label and label[0].isupper()
        assert crime_type_label(code, sentence=True)[0].islower()
    assert len(set(CRIME_TYPE_LABELS.values())) == len(CRIME_TYPE_LABELS)


def test_unknown_and_empty_codes_read_as_words():
    assert crime_type_label("dog_fouling") == "Dog fouling"
    assert crime_type_label("") == ""
    assert crime_type_label(None) == ""


def test_lists_read_as_a_phrase():
    assert crime_type_list(["robbery"]) == "Robbery"
    assert crime_type_list(["robbery", "shoplifting", "vehicle_crime"]) == "Robbery, Shoplifting and Vehicle crime"
    assert crime_type_list(["burglary", "robbery"], sentence=True) == "burglary and robbery"
    assert crime_type_list([]) == ""


def test_docstring_examples():
    assert doctest.testmod(vocabulary).failed == 0


def test_every_forecast_method_has_a_plain_name():
    from hotspots.forecast.methods import NEEDS_TIMES, default_method_names
    from hotspots.vocabulary import forecast_method_label

    names = {*default_method_names("day"), *default_method_names("month"), *NEEDS_TIMES, "naive_28d", "kde_200m"}
    labels = {n: forecast_method_label(n) for n in names}
    for name, label in labels.items():
        assert label and "_" not in label and name not in label and label[0].isupper(), (name, label)
    assert len(set(labels.values())) == len(labels)  # two methods never read the same
    assert forecast_method_label("naive_12m") == "Counts of the last 12 months"
    assert forecast_method_label("naive_1m") == "Counts of the last month"
    assert forecast_method_label("naive_28d") == "Counts of the last 28 days"


def test_a_blend_and_a_relocated_method_read_as_words():
    from hotspots.vocabulary import forecast_method_label

    both = forecast_method_label("blend(learned,naive_12m)")
    assert both.startswith("An equal blend of: ") and both.endswith(" and Counts of the last 12 months")
    assert "Learned model" in both and "blend(" not in both and "naive" not in both
    assert forecast_method_label("kde+relocated") == "Recent crime density (history moved onto the current locations)"
    assert forecast_method_label("") == "" and forecast_method_label("new_thing") == "New thing"


def test_every_stage_has_a_plain_name():
    from hotspots.pipeline import PIPELINE_STAGES
    from hotspots.vocabulary import STAGE_LABELS, stage_label

    for st in PIPELINE_STAGES:
        assert st.name in STAGE_LABELS, st.name
        assert "_" not in stage_label(st.name)
