"""The word model is scikit-learn's multinomial naive Bayes, computed from counts per duty."""

from __future__ import annotations

import re

import pytest

from caregraph import classifier, matching, responsibility

sklearn = pytest.importorskip("sklearn")
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.naive_bayes import MultinomialNB  # noqa: E402


def _examples(documents: list[matching.Document]) -> tuple[list[str], list[str]]:
    """Each document's examples as the model counts them: description sentences, and the
    comma- or semicolon-separated parts of its other fields."""
    texts, labels = [], []
    for doc in documents:
        for name in classifier.FIELDS:
            for text in doc.fields.get(name, ()):
                split = r"(?<=[.!?])\s+" if name == "description" else r"[,;]"
                for part in re.split(split, text):
                    if matching.tokens(part):
                        texts.append(part)
                        labels.append(doc.key)
    return texts, labels


def _sklearn_likelihoods(documents: list[matching.Document], questions: list[str]) -> list[dict[str, float]]:
    texts, labels = _examples(documents)
    vectoriser = CountVectorizer(analyzer=lambda text: classifier.features(matching.tokens(text)))
    model = MultinomialNB(alpha=classifier.ALPHA).fit(vectoriser.fit_transform(texts), labels)
    joint = model.predict_joint_log_proba(vectoriser.transform(questions))
    return [dict(zip(model.classes_, row)) for row in joint]


QUESTIONS = ["who checks care homes are safe", "my dad is being abused", "carers assessment",
             "section 117 aftercare after hospital", "parking ticket", "council council care home care home"]


def test_the_model_gives_scikit_learns_log_likelihoods_on_a_small_knowledge():
    documents = [
        matching.Document("inspect", {"label": ["Inspect care homes"], "asked": ["who checks care homes, are they safe"],
                                      "description": ["CQC inspects. It rates services!"]}),
        matching.Document("enquire", {"label": ["Safeguarding enquiry"], "terms": ["abuse; neglect"],
                                      "holder": ["council"], "description": ["The council makes enquiries."]}),
        matching.Document("assess", {"label": ["Carer's assessment"], "asked": ["carers assessment, assess a carer"]}),
        matching.Document("aftercare", {"label": ["Section 117 aftercare"], "terms": ["after hospital"]}),
    ]
    model = classifier.NaiveBayes(documents)
    for question, expected in zip(QUESTIONS, _sklearn_likelihoods(documents, QUESTIONS)):
        got = model.log_likelihoods(matching.tokens(question))
        assert got.keys() == expected.keys()
        for key in expected:
            assert got[key] == pytest.approx(expected[key], abs=1e-9), (question, key)


def test_the_model_of_the_knowledge_gives_scikit_learns_log_likelihoods(store):
    documents = matching.documents_from_rows(store.select_text("duty_documents", ("duty", "field", "text")))
    model = responsibility._model(store)
    for question, expected in zip(QUESTIONS, _sklearn_likelihoods(documents, QUESTIONS)):
        got = model.log_likelihoods(matching.tokens(question))
        assert set(got) == set(expected)
        assert max(got, key=got.get) == max(expected, key=expected.get)
        for key in expected:
            assert got[key] == pytest.approx(expected[key], abs=1e-6), (question, key)


def test_words_the_knowledge_never_uses_change_no_duty_s_likelihood(store):
    model = responsibility._model(store)
    plain = model.log_likelihoods(matching.tokens("carers assessment"))
    assert model.log_likelihoods(matching.tokens("carers assessment zzqx")) == plain


def test_the_model_ranks_but_never_decides_that_a_question_is_caregraphs(store):
    # The model always has a likeliest duty; a question about parking is still declined.
    response = responsibility.ask(store, "parking ticket")
    assert response.confidence == responsibility.OUTSIDE and not response.answers
