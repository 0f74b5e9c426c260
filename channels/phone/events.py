"""Call events from a generic CTI webhook or Asterisk ARI -> one internal :class:`CallEvent`.

Each source has an explicit table of small pure parsers; unknown event types
raise :class:`UnknownEventType` (acknowledged and logged by the caller).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from channels.base import MalformedPayload, dispatch_event

CHANNEL = "phone"


@dataclass(frozen=True)
class CallEvent:
    kind: str                 # new | answer | hangup | recording
    call_id: str
    source: str               # cti | ari
    at: dt.datetime | None = None
    direction: str = "in"
    from_number: str = ""
    to_number: str = ""
    user: str | None = None   # who answered
    cause: str | None = None
    recording_url: str | None = None
    recording_seconds: float | None = None


def _field(payload: Mapping, *names: str, required: bool = True) -> str:
    for name in names:
        value = payload.get(name)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()[:200]
    if required:
        raise MalformedPayload(f"缺少字段 {names[0]}")
    return ""


def _direction(payload: Mapping) -> str:
    direction = _field(payload, "direction", required=False) or "in"
    if direction not in ("in", "out"):
        raise MalformedPayload("direction 必须是 in 或 out")
    return direction


# -- generic CTI (Zammad-style form fields) ----------------------------------------------------

def cti_new_call(p: Mapping) -> CallEvent:
    return CallEvent("new", _field(p, "callId"), "cti", direction=_direction(p), from_number=_field(p, "from"),
                     to_number=_field(p, "to"))


def cti_answer(p: Mapping) -> CallEvent:
    return CallEvent("answer", _field(p, "callId"), "cti", direction=_direction(p),
                     from_number=_field(p, "from", required=False), to_number=_field(p, "to", required=False),
                     user=_field(p, "user", "user[]", "answeringNumber", required=False) or None)


def cti_hangup(p: Mapping) -> CallEvent:
    return CallEvent("hangup", _field(p, "callId"), "cti", direction=_direction(p),
                     from_number=_field(p, "from", required=False), to_number=_field(p, "to", required=False),
                     cause=_field(p, "cause", required=False) or None)


def cti_recording(p: Mapping) -> CallEvent:
    url = _field(p, "url", "recordingUrl")
    if not url.startswith(("http://", "https://")):
        raise MalformedPayload("录音 url 必须是 http(s) 地址")
    try:
        seconds = float(_field(p, "duration"))
    except ValueError:
        raise MalformedPayload("duration 必须是数字（秒）") from None
    return CallEvent("recording", _field(p, "callId"), "cti", recording_url=url, recording_seconds=seconds)


CTI_EVENTS = {"newCall": cti_new_call, "answer": cti_answer, "hangup": cti_hangup, "recording": cti_recording}


def parse_cti(payload: Mapping) -> CallEvent:
    return dispatch_event(CHANNEL, CTI_EVENTS, _field(payload, "event"), payload)


# -- Asterisk ARI -----------------------------------------------------------------------------

def _ari_time(payload: Mapping) -> dt.datetime | None:
    raw = payload.get("timestamp")
    if not isinstance(raw, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return dt.datetime.strptime(raw, fmt).astimezone(dt.timezone.utc)
        except ValueError:
            continue
    return None


def _channel(payload: Mapping) -> Mapping:
    channel = payload.get("channel")
    if not isinstance(channel, Mapping) or not channel.get("id"):
        raise MalformedPayload("ARI 事件缺少 channel.id")
    return channel


def ari_stasis_start(p: Mapping) -> CallEvent:
    ch = _channel(p)
    return CallEvent("new", str(ch["id"]), "ari", at=_ari_time(p),
                     from_number=str((ch.get("caller") or {}).get("number") or ""),
                     to_number=str((ch.get("dialplan") or {}).get("exten") or ""))


def ari_state_change(p: Mapping) -> CallEvent | None:
    ch = _channel(p)
    if ch.get("state") != "Up":
        return None  # Ringing, Ring, Busy...: nothing to record
    connected = ch.get("connected") or {}
    user = connected.get("name") or connected.get("number") or None
    return CallEvent("answer", str(ch["id"]), "ari", at=_ari_time(p), user=user)


def ari_destroyed(p: Mapping) -> CallEvent:
    ch = _channel(p)
    return CallEvent("hangup", str(ch["id"]), "ari", at=_ari_time(p), cause=str(p.get("cause_txt") or "") or None)


def ari_recording_finished(p: Mapping) -> CallEvent:
    rec = p.get("recording")
    if not isinstance(rec, Mapping) or not str(rec.get("target_uri", "")).startswith("channel:"):
        raise MalformedPayload("RecordingFinished 缺少 recording.target_uri")
    return CallEvent("recording", rec["target_uri"].split(":", 1)[1], "ari", at=_ari_time(p),
                     recording_url=f"ari-recording:{rec.get('name')}.{rec.get('format') or 'wav'}",
                     recording_seconds=float(rec.get("duration") or 0))


ARI_EVENTS = {"StasisStart": ari_stasis_start, "ChannelStateChange": ari_state_change,
              "ChannelDestroyed": ari_destroyed, "RecordingFinished": ari_recording_finished}


def parse_ari(payload: Mapping) -> CallEvent | None:
    return dispatch_event(CHANNEL, ARI_EVENTS, _field(payload, "type"), payload)
