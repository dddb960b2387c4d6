# Regenerates score_golden.json with the official SQuAD v1.1 scoring functions
# (normalize_answer, f1_score, exact_match_score and metric_max_over_ground_truths,
# copied from evaluate-v1.1.py). Run: python3 score_golden.py > score_golden.json
import json
import re
import string
from collections import Counter


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r'\b(a|an|the)\b', ' ', text)

    def white_space_fix(text):
        return ' '.join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return ''.join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    f1 = (2 * precision * recall) / (precision + recall)
    return f1


def exact_match_score(prediction, ground_truth):
    return (normalize_answer(prediction) == normalize_answer(ground_truth))


def metric_max_over_ground_truths(metric_fn, prediction, ground_truths):
    scores_for_ground_truths = []
    for ground_truth in ground_truths:
        score = metric_fn(prediction, ground_truth)
        scores_for_ground_truths.append(score)
    return max(scores_for_ground_truths)


CASES = [
    # (name, extracted answer, gold answers)
    ("exact", "Denver Broncos", ["Denver Broncos"]),
    ("case", "denver BRONCOS", ["Denver Broncos"]),
    ("article the", "The Denver Broncos", ["Denver Broncos"]),
    ("article a", "a touchdown", ["touchdown"]),
    ("article an", "an apple", ["apple"]),
    ("article inside word", "theory of another", ["theory of another"]),
    ("article only", "the", ["a"]),
    ("article vs empty", "the", [""]),
    ("articles everywhere", "the cat and a dog an owl", ["cat dog owl and"]),
    ("trailing period", "Santa Clara.", ["Santa Clara"]),
    ("punctuation inside", "Levi's Stadium", ["Levis Stadium"]),
    ("hyphen joins", "24-10", ["2410"]),
    ("hyphen vs space", "24 - 10", ["24–10"]),
    ("en dash kept", "24–10", ["24–10"]),
    ("unicode quotes kept", "“golden anniversary”", ["golden anniversary"]),
    ("ascii quotes dropped", "\"golden anniversary\"", ["golden anniversary"]),
    ("accents", "Émile Zola", ["émile zola"]),
    ("accented article neighbour", "éthe cat", ["éthe cat"]),
    ("article after accent", "é the cat", ["é cat"]),
    ("underscore is punctuation", "foo_bar", ["foobar"]),
    ("digits", "1,000,000", ["1000000"]),
    ("percent", "50 %", ["50"]),
    ("cjk", "北京", ["北京"]),
    ("nbsp whitespace", "Denver\u00a0Broncos", ["Denver Broncos"]),
    ("tabs and newlines", "Denver\t\n Broncos ", ["Denver Broncos"]),
    ("empty response", "", ["Denver Broncos"]),
    ("whitespace response", "   ", ["Denver Broncos"]),
    ("punctuation only", "...", ["Denver Broncos"]),
    ("partial overlap", "Broncos", ["Denver Broncos"]),
    ("longer prediction", "the Denver Broncos of the AFC", ["Denver Broncos"]),
    ("repeated tokens", "Broncos Broncos Broncos", ["Denver Broncos"]),
    ("multiset overlap", "a b b c", ["b b b d"]),
    ("max over golds", "Carolina", ["Denver Broncos", "Carolina Panthers", "Panthers"]),
    ("em from one f1 from another", "Panthers", ["Carolina Panthers", "Panthers"]),
    ("no overlap", "Seattle Seahawks", ["Denver Broncos", "Broncos"]),
    ("numbers words", "third", ["3rd"]),
    ("german sharp s", "Straße", ["STRASSE"]),
    ("greek final sigma", "ΟΔΟΣ", ["οδος"]),
    ("greek sigma mid word", "ΣΟΦΙΑ", ["σοφια"]),
    ("greek sigma alone", "Σ", ["σ"]),
    ("greek sigma before quote", "ΟΔΟΣ' ΟΔΟΣ", ["οδος οδος"]),
    ("dotted capital i", "İstanbul", ["istanbul"]),
    ("article with precomposed accent", "th\u00e9 cat", ["th\u00e9 cat"]),
    ("article before combining mark", "the\u0301 cat", ["\u0301 cat"]),
    ("long answer", "the Super Bowl 50 was an American football game to determine the champion", ["Super Bowl 50", "American football game"]),
]

out = []
for name, pred, golds in CASES:
    em = metric_max_over_ground_truths(exact_match_score, pred, golds)
    f1 = metric_max_over_ground_truths(f1_score, pred, golds)
    out.append({"name": name, "answer": pred, "gold": golds,
                "normalized": normalize_answer(pred),
                "em": 1.0 if em else 0.0, "f1": float(f1)})
print(json.dumps(out, indent=1, ensure_ascii=False))
