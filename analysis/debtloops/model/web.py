"""The downloads of ``debtloops data refresh``: one HTTP GET with a timeout, every failure one line.

Nothing here parses or writes: :mod:`debtloops.model.publishers` reads the bodies and
:mod:`debtloops.model.refresh` builds the files.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from debtloops.errors import DownloadError
from debtloops.model.publishers import FRED_URL

#: The longest a request may wait for FRED to connect or to send more data [s].
TIMEOUT = 30.0

#: ``opener(url, timeout [s])`` returns a response's body, raising what :mod:`urllib` raises.
Opener = Callable[[str, float], bytes]


def fetch_url(url: str, timeout: float = TIMEOUT) -> bytes:
    """Download ``url`` with :mod:`urllib`, waiting at most ``timeout`` seconds at a time.

    Returns
    -------
    bytes
        The response's body.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "debtloops-data-refresh"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def download(fred_id: str, opener: Opener) -> bytes:
    """Download one FRED series as CSV (see :func:`fetch`)."""
    return fetch(FRED_URL.format(series=fred_id), "FRED", f"series {fred_id}", opener)


def fetch(url: str, publisher: str, what: str, opener: Opener) -> bytes:
    """Download one publisher's file, turning every failure into one line.

    Parameters
    ----------
    url : str
        The file's address.
    publisher, what : str
        Who publishes it and what it is, for messages (``"FRED"``, ``"series GS10"``).
    opener : callable
        ``opener(url, timeout)`` returns the body.

    Raises
    ------
    DownloadError
        On an HTTP error, a timeout, no network, or a response cut short.
    """
    host = urllib.parse.urlsplit(url).hostname
    try:
        return opener(url, TIMEOUT)
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"{publisher} answered HTTP {error.code} ({error.reason}) for {what} ({url}); "
            "nothing was written"
        ) from None
    except TimeoutError as error:
        raise _timeout(what, host) from error
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _timeout(what, host) from None
        raise DownloadError(
            f"cannot reach {host} ({error.reason}): is this machine offline? nothing was written"
        ) from None
    except http.client.IncompleteRead as error:
        raise DownloadError(
            f"{publisher}'s file for {what} was cut short after {len(error.partial)} bytes; "
            "try again; nothing was written"
        ) from None
    except (OSError, http.client.HTTPException) as error:  # a connection reset mid-transfer
        raise DownloadError(
            f"the download of {what} from {host} failed ({error}); try again; nothing was written"
        ) from None


def _timeout(what: str, host: str | None) -> DownloadError:
    return DownloadError(
        f"{host} did not answer within {TIMEOUT:g} s ({what}): offline or slow; try again "
        "later; nothing was written"
    )
