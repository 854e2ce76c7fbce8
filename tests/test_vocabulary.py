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
