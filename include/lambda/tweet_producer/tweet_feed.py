"""Where the producer's posts come from: a seeded sample feed (a day's posts are a pure function of the date and
the seed), or a replay of captured posts (JSON lines), and the original's filter that both pass through.

A post is a dict: ``created`` (ISO timestamp, UTC), ``post_id``, ``user_name``, ``repost_count`` (None where the
source has none), ``hashtags`` (list of strings, as the source tags them), ``text``, ``lang``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable, Iterator

USERS = (
    "ada_l",
    "grace_h",
    "linus_t",
    "margaret_h",
    "ken_t",
    "barbara_l",
    "dennis_r",
    "frances_a",
    "guido_v",
    "radia_p",
    "tim_bl",
    "hedy_l",
    "alan_t",
    "katherine_j",
    "john_m",
    "edsger_d",
)
TOPICS = {
    "climate": ("Record heat again this week, {adj} news for the reef", "Solar is now the cheapest power we have"),
    "python": ("Just shipped a {adj} release of our library", "Type hints saved me an hour of debugging today"),
    "worldcup": ("What a {adj} goal in the final minute!", "The referee ruined that match, honestly"),
    "ai": ("This new model is {adj} at summarising papers", "Not convinced the benchmarks mean much"),
    "coffee": ("Best flat white in town, {adj} as always", "Third cup and it is only 10am"),
    "music": ("The new album is {adj}, on repeat all day", "Concert tickets sold out in two minutes, awful"),
    "space": ("Launch scrubbed again, {adj} weather at the cape", "The images from the telescope are stunning"),
}
ADJECTIVES = ("great", "terrible", "amazing", "sad", "wonderful", "bad", "happy", "boring", "beautiful", "ugly")
# Decorations the staging step must clean: links, mentions, retweet marks, HTML entities, emoji (non-BMP).
DECORATIONS = ("", " https://t.co/{code}", " via @{user}", " &amp; more", " \U0001f525", " :)", " &quot;wow&quot;")
LANGUAGES = ("en",) * 8 + ("es", "fr")


def sample_posts(date: str, seed: int = 0, count: int = 200, duplicates: int = 0) -> list[dict]:
    """The day's sample posts: ``count`` distinct posts spread over the day, then ``duplicates`` of them again
    (a source re-delivering). Same date and seed, same posts, in every process (a string seed is hashed)."""
    rng = random.Random(f"tweet_hashtags:{date}:{seed}")
    day_start = dt.datetime.fromisoformat(date).replace(tzinfo=dt.UTC)
    topics = sorted(TOPICS)
    offsets = sorted(rng.randrange(86_400_000) for _ in range(count))
    posts = []
    for index, offset in enumerate(offsets):
        primary = rng.choice(topics)
        tags = [primary] + rng.sample([t for t in topics if t != primary], rng.choice((0, 0, 1, 2)))
        template = rng.choice(TOPICS[primary])
        text = template.format(adj=rng.choice(ADJECTIVES))
        text += rng.choice(DECORATIONS).format(code=f"{rng.randrange(16**6):06x}", user=rng.choice(USERS))
        tags = [tag.title() if rng.random() < 0.3 else tag for tag in tags]  # as people type them
        text += "".join(f" #{tag}" for tag in tags)
        if rng.random() < 0.15:
            text = f"RT @{rng.choice(USERS)}: {text}"
        posts.append(
            {
                "created": (day_start + dt.timedelta(milliseconds=offset)).isoformat(timespec="milliseconds"),
                "post_id": f"{date.replace('-', '')}{seed:03d}{index:07d}",
                "user_name": rng.choice(USERS),
                "repost_count": int(rng.paretovariate(1.5)) - 1,
                "hashtags": tags,
                "text": text,
                "lang": rng.choice(LANGUAGES),
            }
        )
    return posts + [dict(post) for post in rng.sample(posts, min(duplicates, len(posts)))]


def replay_lines(lines: Iterable[str]) -> Iterator[dict | str]:
    """Captured posts, one JSON object a line; a line that is no JSON object is yielded as it stands, so that it
    reaches the stream and is quarantined with its reason downstream instead of vanishing here."""
    for line in lines:
        if not line.strip():
            continue
        try:
            post = json.loads(line)
        except json.JSONDecodeError:
            yield line
            continue
        yield post if isinstance(post, dict) else line


def filter_reason(post: dict, language: str = "en", min_reposts: int = 0) -> str | None:
    """Why the original's filter drops ``post`` (None: it passes): another language, no hashtags, or fewer
    reposts than the threshold where the source counts them. Empty text is not filtered: staging quarantines
    it with its reason, so that it is counted."""
    lang = post.get("lang")
    if language and lang and lang != language:
        return "language"
    if not post.get("hashtags"):
        return "no_hashtags"
    reposts = post.get("repost_count")
    if reposts is not None and isinstance(reposts, int) and reposts < min_reposts:
        return "reposts_below_threshold"
    return None
