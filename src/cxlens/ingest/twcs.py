"""Customer Support on Twitter (TWCS) -> cases and case events on the social channel.

A conversation is the tree of tweets under a root: an inbound tweet (from a customer) that
replies to nothing. It becomes one case whose customer is the root's author (identity column
``social:twitter``) and whose team is the first brand account that replied. A case is ``solved``
once a brand replied (``solved_at`` = the brand's last tweet in it; the data has no resolution
signal, so "the brand answered" is the best proxy), otherwise ``new``. Each tweet is a
``message`` event, ``in`` from customers and ``out`` from brands.

Some rows cannot be used and come back in the ``rejected`` table (``line``, ``column``,
``reason``, the shape of ``RejectedRow``; ``line`` is unknown, hence null) instead of being
imported: physical CSV records with the wrong number of fields (the published file has a tweet
with unquoted line breaks), replies whose thread reaches a tweet missing from the file (cut-off
extracts), conversations that a brand started, and reply loops. ``rejected`` is not an entity.

Both shapes of the file are read: Kaggle's (``tweet_id`` first) and pandas re-saves with a
leading unnamed index column and ids written as floats (``3.0``). A timestamp that cannot be
parsed is null (the pipeline rejects the row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from cxlens.errors import ImportFailed

SOURCE = "twcs"
IDENTITY = "social:twitter"
COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
_UTC = pa.timestamp("us", tz="UTC")
# 2**64 exceeds any chain, so real chains settle long before; only a reply loop of three or more
# tweets never settles, and its tweets are recognised as a loop afterwards.
_MAX_ROUNDS = 64
_REJECTED = pa.schema([("line", pa.int64()), ("column", pa.string()), ("reason", pa.string())])


def read_twcs(path: Path) -> dict[str, pa.Table]:
    """Keys ``cases`` and ``case_events``, plus ``rejected``: the rows left out and why."""
    malformed: list[str] = []
    tweets = _normalise(_read(path, malformed))
    root_id, chain_end = _thread_tops(tweets["tweet_id"], tweets["parent_id"])
    tweets = tweets.append_column("root_id", root_id).append_column("chain_end", chain_end)
    usable = _usable(tweets)
    kept = tweets.filter(usable)
    return {
        "cases": _cases(kept),
        "case_events": _case_events(kept),
        "rejected": pa.concat_tables([_malformed_rows(malformed), _unusable_rows(tweets, usable)]),
    }


def _read(path: Path, malformed: list[str]) -> pa.Table:
    def skip(row: pcsv.InvalidRow) -> str:
        # Called once per bad physical record, not per row: counting them needs the callback.
        malformed.append(f"{row.actual_columns} fields instead of {row.expected_columns}: {row.text[:60]!r}")
        return "skip"

    # Ids and flags stay text: the float-written ids are repaired below, and a tweet reading
    # "NA" is a tweet, so only empty fields are missing.
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(COLUMNS, pa.string()), null_values=[""], strings_can_be_null=True
    )
    parse = pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=skip)
    try:
        table = pcsv.read_csv(path, parse_options=parse, convert_options=convert)
    except (OSError, pa.ArrowInvalid) as error:
        raise ImportFailed(f"Cannot read {path.name}: {error}") from error
    missing = [column for column in COLUMNS if column not in table.column_names]
    if missing:
        raise ImportFailed(f"{path.name} is not a TWCS file: it lacks {', '.join(missing)}")
    return table.select(list(COLUMNS))


def _tweet_id(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # pandas wrote in_response_to_tweet_id as a float column: "3.0" is tweet "3".
    return pc.replace_substring_regex(pc.utf8_trim_whitespace(column), r"\.0+$", "")


def _normalise(raw: pa.Table) -> pa.Table:
    inbound = pc.utf8_lower(pc.utf8_trim_whitespace(raw["inbound"]))
    return pa.table(
        {
            "tweet_id": _tweet_id(raw["tweet_id"]),
            "author_id": raw["author_id"],
            "inbound": pc.equal(inbound, "true"),
            "created_at": pc.cast(
                pc.strptime(raw["created_at"], format=_TIME_FORMAT, unit="s", error_is_null=True), _UTC
            ),
            "text": raw["text"],
            "parent_id": _tweet_id(raw["in_response_to_tweet_id"]),
        }
    )


def _thread_tops(tweet_id: pa.ChunkedArray, parent_id: pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Each tweet's root id (null if none) and, when there is none, the tweet its chain ends at.

    Pointer jumping: every round replaces each tweet's pointer by its pointer's pointer (one
    vectorised take, a self-join by position), so the loop runs about log2(longest chain)
    times, never once per tweet. Chains stop at a tweet without a parent in the file."""
    ids = tweet_id.combine_chunks()
    parents = parent_id.combine_chunks()
    own = pa.array(np.arange(len(ids), dtype=np.int64))
    parent_at = pc.cast(pc.index_in(parents, value_set=ids), pa.int64())
    up = pc.if_else(pc.is_valid(parent_at), parent_at, own)
    for _ in range(_MAX_ROUNDS):
        jumped = pc.take(up, up)
        if jumped.equals(up):
            break
        up = jumped
    # The top is a root only if it replies to nothing; otherwise its parent is missing (or the
    # chain loops and the top is any tweet of the loop).
    top_parent = pc.take(parents, up)
    return pc.if_else(pc.is_null(top_parent), pc.take(ids, up), None), top_parent


def _usable(tweets: pa.Table) -> pa.ChunkedArray:
    root_inbound = pc.take(tweets["inbound"], pc.index_in(tweets["root_id"], value_set=tweets["tweet_id"]))
    return pc.fill_null(root_inbound, False)


def _malformed_rows(malformed: list[str]) -> pa.Table:
    reasons = [f"malformed CSV record ({text})" for text in malformed]
    return pa.table(
        [
            pa.nulls(len(reasons), pa.int64()),
            pa.nulls(len(reasons), pa.string()),
            pa.array(reasons, pa.string()),
        ],
        schema=_REJECTED,
    )


def _unusable_rows(tweets: pa.Table, usable: pa.ChunkedArray) -> pa.Table:
    left_out = tweets.filter(pc.invert(usable))
    has_root = pc.is_valid(left_out["root_id"])
    loops = pc.is_in(left_out["chain_end"], value_set=tweets["tweet_id"])
    cut_off = pc.binary_join_element_wise(
        ": its thread goes back to tweet ", left_out["chain_end"], ", which is not in the file", ""
    )
    why = pc.if_else(
        has_root,
        pc.binary_join_element_wise(": conversation started by brand tweet ", left_out["root_id"], ""),
        pc.if_else(loops, ": its reply chain loops", cut_off),
    )
    reasons = pc.binary_join_element_wise("tweet ", pc.fill_null(left_out["tweet_id"], "?"), why, "")
    column = pc.if_else(has_root, "inbound", "in_response_to_tweet_id")
    size = left_out.num_rows
    return pa.table([pa.nulls(size, pa.int64()), column, reasons], schema=_REJECTED)


def _brand_replies(tweets: pa.Table) -> pa.Table:
    outbound = tweets.filter(pc.invert(pc.fill_null(tweets["inbound"], True)))
    ordered = outbound.sort_by([("root_id", "ascending"), ("created_at", "ascending")])
    # Ordered aggregation ("first") needs a single thread.
    return ordered.group_by("root_id", use_threads=False).aggregate(
        [("author_id", "first"), ("created_at", "min"), ("created_at", "max")]
    )


def _subject(text: pa.ChunkedArray) -> pa.ChunkedArray:
    one_line = pc.utf8_trim_whitespace(pc.replace_substring_regex(text, r"\s+", " "))
    return pc.utf8_slice_codeunits(one_line, 0, 80)


def _cases(tweets: pa.Table) -> pa.Table:
    roots = tweets.filter(pc.equal(tweets["tweet_id"], tweets["root_id"]))
    roots = roots.join(_brand_replies(tweets), "root_id", join_type="left outer")
    roots = roots.sort_by([("created_at", "ascending"), ("root_id", "ascending")])
    replied = pc.is_valid(roots["created_at_min"])
    size = roots.num_rows
    return pa.table(
        {
            IDENTITY: roots["author_id"],
            "external_id": roots["root_id"],
            "channel": pa.repeat("social", size),
            "subject": _subject(roots["text"]),
            "status": pc.if_else(replied, "solved", "new"),
            "team": roots["author_id_first"],
            "created_at": roots["created_at"],
            "first_response_at": roots["created_at_min"],
            "solved_at": roots["created_at_max"],
            "source": pa.repeat(SOURCE, size),
        }
    )


def _case_events(tweets: pa.Table) -> pa.Table:
    ordered = tweets.sort_by([("root_id", "ascending"), ("created_at", "ascending")])
    size = ordered.num_rows
    return pa.table(
        {
            "case_external_id": ordered["root_id"],
            "occurred_at": ordered["created_at"],
            "kind": pa.repeat("message", size),
            "direction": pc.if_else(ordered["inbound"], "in", "out"),
            "author": ordered["author_id"],
            "channel": pa.repeat("social", size),
            "body": ordered["text"],
            "source": pa.repeat(SOURCE, size),
            "idempotency_key": ordered["tweet_id"],
        }
    )
