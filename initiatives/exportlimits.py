"""Bounded public work: how many exports a client may start, and run at once.

A CSV export of the whole register holds a database connection for as long as the client
takes to read it. Two limits, counted in the shared cache (so they hold across processes
and machines, like the rate limits):

- anonymous clients may start EXPORT_RATE_ANON exports per address (django-ratelimit);
- every client (a signed-in user, or else an address) may run EXPORT_CONCURRENT_PER_CLIENT
  at once: a slot is taken when the download starts and given back when it ends, however
  it ends (finished, or the client went away). A slot also expires after
  EXPORT_SLOT_SECONDS, so a process killed mid-download does not keep it forever.

Past either limit the answer is a 429 page that says which limit and when to retry, with
`Retry-After`, and the refusal goes to the security log (aggregated per minute).
"""

import itertools

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _period_seconds(rate):
    """Seconds in the period of a django-ratelimit rate such as "20/h" or "5/10m"."""
    _count, _slash, period = rate.partition("/")
    digits = "".join(itertools.takewhile(str.isdigit, period))
    return int(digits or 1) * _PERIODS.get(period[len(digits) : len(digits) + 1].lower(), 1)


def _client(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def _refuse(request, message, retry_after):
    from initiatives.audit import RATE_LIMITED, record_event

    record_event(RATE_LIMITED, request=request, detail=f"{request.method} {request.path}")
    body = loader.get_template("429.html").render({"message": message}, request=request)
    response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def refusal(request, name):
    """A 429 response if `request` may not start export `name` now, else None."""
    user = getattr(request, "user", None)
    rate = settings.EXPORT_RATE_ANON
    if settings.RATELIMIT_ENABLE and rate and not (user and user.is_authenticated):
        from django_ratelimit.core import is_ratelimited

        if is_ratelimited(
            request, group=f"export:{name}", key="ip", rate=rate, method="GET", increment=True
        ):
            return _refuse(
                request,
                _("This export was downloaded too many times from your connection."),
                _period_seconds(rate),
            )
    return None


class _Slot:
    def __init__(self, key):
        self.key = key
        self.released = False

    def release(self):
        if self.released:
            return
        self.released = True
        try:
            if cache.decr(self.key) < 0:
                cache.set(self.key, 0, settings.EXPORT_SLOT_SECONDS)
        except ValueError:  # expired meanwhile
            pass


def _take_slot(request, name):
    limit = settings.EXPORT_CONCURRENT_PER_CLIENT
    key = f"export-slots:{name}:{_client(request)}"
    cache.add(key, 0, settings.EXPORT_SLOT_SECONDS)
    try:
        running = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, settings.EXPORT_SLOT_SECONDS)
        running = 1
    slot = _Slot(key)
    if running > limit:
        slot.release()
        return None
    cache.touch(key, settings.EXPORT_SLOT_SECONDS)
    return slot


def _released_at_end(chunks, slot):
    try:
        yield from chunks
    finally:
        slot.release()


def limited(request, name, make_response):
    """`make_response()` (a streaming download) if the client is within both limits, its
    slot given back when the download ends; else the 429 page."""
    refused = refusal(request, name)
    if refused is not None:
        return refused
    if not settings.RATELIMIT_ENABLE:
        return make_response()
    slot = _take_slot(request, name)
    if slot is None:
        return _refuse(
            request,
            ngettext(
                "You already have %(count)d download of this export running. Wait until it "
                "finishes, then try again.",
                "You already have %(count)d downloads of this export running. Wait until "
                "they finish, then try again.",
                settings.EXPORT_CONCURRENT_PER_CLIENT,
            )
            % {"count": settings.EXPORT_CONCURRENT_PER_CLIENT},
            10,
        )
    try:
        response = make_response()
    except BaseException:
        slot.release()
        raise
    if not response.streaming:
        slot.release()
        return response
    response.streaming_content = _released_at_end(response.streaming_content, slot)
    # Also when the server closes the response early (the client went away).
    response._resource_closers.append(slot.release)
    return response
