"""The staging transform, pure: landed stream records in, one row per (post, hashtag) out, with cleaned text and
TextBlob sentiment, plus the records quarantined with their reason.

- Cleaning: HTML entities decoded, then links, @mentions, the retweet mark "RT", emoji and every character outside
  the Basic Multilingual Plane removed, "#" dropped from hashtags (the word stays), punctuation to spaces, spaces
  collapsed. Sentiment is scored on the cleaned text (TextBlob's pattern lexicon, shipped in the package).
- Hashtags are normalised (NFKC, case-folded, word characters only); empties and repeats within a post dropped.
- ``record_id`` is the SHA-1 (hex) of the record's data as it travelled on the stream: the same delivery has the
  same id on every run and platform (Kinesis sequence numbers differ per stream). ``hash_id`` is
  ``base64(sha1(record_id + post_id + hashtag))``.
- A post delivered more than once in the day (the source re-sending, or another landing of the day) is staged
  once, from its earliest arrival; the others count as duplicates. read = staged posts + quarantined + duplicates.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
MENTION = re.compile(r"(?<!\w)@\w+")
RETWEET = re.compile(r"\bRT\b:?")
NON_WORD = re.compile(r"[^\w\s]|_")
SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """The text as sentiment scoring and the analytical table see it (see the module docstring)."""
    text = html.unescape(text)
    text = URL.sub(" ", text)
    text = MENTION.sub(" ", text)
    text = RETWEET.sub(" ", text)
    text = "".join(
        " "
        if ord(char) > 0xFFFF or unicodedata.category(char) in ("So", "Sk", "Cs", "Co", "Cn") or char == "\ufe0f"
        else char
        for char in text
    )
    text = NON_WORD.sub(" ", text)
    return SPACES.sub(" ", text).strip()


def sentiment(text_clean: str) -> tuple[float, float]:
    """(polarity in [-1, 1], subjectivity in [0, 1]) by TextBlob, rounded to 6 places."""
    from textblob import TextBlob

    scored = TextBlob(text_clean).sentiment
    return round(float(scored.polarity), 6), round(float(scored.subjectivity), 6)


def normalise_hashtag(tag) -> str:
    if not isinstance(tag, str):
        return ""
    tag = unicodedata.normalize("NFKC", tag).lstrip("#").casefold()
    return "".join(char for char in tag if char.isalnum() or char == "_").strip("_")


def normalised_hashtags(tags) -> list[str]:
    return list(dict.fromkeys(tag for tag in map(normalise_hashtag, tags) if tag))


def hash_id(record_id: str, post_id: str, hashtag: str) -> str:
    return base64.b64encode(hashlib.sha1(f"{record_id}{post_id}{hashtag}".encode()).digest()).decode()


def record_id(data: str) -> str:
    return hashlib.sha1(data.encode()).hexdigest()


def athena_timestamp(value: str) -> str:
    """ISO 8601 (any offset, or none: UTC) as Athena's timestamp text, UTC, milliseconds."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.isoformat(sep=" ", timespec="milliseconds")


class Quarantined(ValueError):
    """A record that cannot be staged; its message is the reason."""


@dataclass
class StagedDay:
    rows: list[dict] = field(default_factory=list)
    quarantined: list[dict] = field(default_factory=list)
    read: int = 0
    duplicates: int = 0
    staged_posts: int = 0

    def counts(self) -> dict:
        reasons = Counter(item["reason"] for item in self.quarantined)
        return {
            "read": self.read,
            "staged_posts": self.staged_posts,
            "hashtag_rows": len(self.rows),
            "hashtags": len({row["hashtag"] for row in self.rows}),
            "quarantined": len(self.quarantined),
            "duplicates": self.duplicates,
            "quarantine_reasons": dict(sorted(reasons.items())),
        }


def parse_post(landed: dict) -> dict:
    """The post a landed record carries; raises Quarantined with the reason when it carries none."""
    if "data" not in landed:
        raise Quarantined("record is not UTF-8 text")
    try:
        post = json.loads(landed["data"])
    except json.JSONDecodeError:
        raise Quarantined("record is not valid JSON") from None
    if not isinstance(post, dict):
        raise Quarantined("record is not a JSON object")
    if not str(post.get("post_id") or "").strip():
        raise Quarantined("post has no post_id")
    if not isinstance(post.get("text"), str) or not post["text"].strip():
        raise Quarantined("post has no text")
    try:
        post["created"] = athena_timestamp(str(post.get("created")))
    except ValueError:
        raise Quarantined("created is not an ISO 8601 timestamp") from None
    if not isinstance(post.get("hashtags"), list):
        raise Quarantined("hashtags is not a list")
    post["hashtags"] = normalised_hashtags(post["hashtags"])
    if not post["hashtags"]:
        raise Quarantined("post has no usable hashtag")
    reposts = post.get("repost_count")
    if reposts is not None and (not isinstance(reposts, int) or isinstance(reposts, bool) or reposts < 0):
        raise Quarantined("repost_count is not a count")
    return post


def explode(post: dict, landed: dict) -> list[dict]:
    """One row per hashtag of the post."""
    text_clean = clean_text(post["text"])
    polarity, subjectivity = sentiment(text_clean)
    rid = record_id(landed["data"])
    post_id = str(post["post_id"])
    return [
        {
            "hash_id": hash_id(rid, post_id, hashtag),
            "record_id": rid,
            "post_id": post_id,
            "created": post["created"],
            "user_name": str(post.get("user_name") or ""),
            "repost_count": post.get("repost_count"),
            "hashtag": hashtag,
            "text": post["text"],
            "text_clean": text_clean,
            "polarity": polarity,
            "subjectivity": subjectivity,
            "lang": post.get("lang"),
            "arrival": athena_timestamp(landed["arrival"]),
            "sequence_number": landed["sequence_number"],
        }
        for hashtag in post["hashtags"]
    ]


def stage_records(landed_lines: list[tuple[str, str]]) -> StagedDay:
    """Stage the day's landed lines, each ``(source object key, line)``, in landing order."""
    day = StagedDay()
    parsed = []
    for source, line in landed_lines:
        day.read += 1
        try:
            landed = json.loads(line)
            if not isinstance(landed, dict) or not {"sequence_number", "arrival"} <= landed.keys():
                raise ValueError
            athena_timestamp(landed["arrival"])
        except ValueError:
            day.quarantined.append({"source": source, "reason": "landing line is not a landed record", "line": line})
            continue
        parsed.append((landed["arrival"], source, landed))
    seen: set[str] = set()
    for _, source, landed in sorted(parsed, key=lambda item: (athena_timestamp(item[0]), item[1])):
        try:
            post = parse_post(landed)
        except Quarantined as reason:
            day.quarantined.append({"source": source, "reason": str(reason), "record": landed})
            continue
        if str(post["post_id"]) in seen:
            day.duplicates += 1
            continue
        seen.add(str(post["post_id"]))
        day.staged_posts += 1
        day.rows.extend(explode(post, landed))
    return day
