"""The HTTP client's video downloads (a part of HTTPRenderingAPI): ``download``, ``output_url``,
and the delivery of a job's video to the ``output`` path it was submitted with.

Over Redis the merging worker writes a job's video to its ``output`` path (``local_delivery``,
on by default). Over HTTP the video stays in the service's storage, so this client does it
instead: a job submitted here with a local ``output`` (and ``local_delivery`` left on) is
downloaded there when ``wait`` sees it completed, and the records this client returns for it
name that path. Another process (``cloudrender status --api``) sees the service's file name.
"""

from __future__ import annotations

import dataclasses
import os
from urllib.parse import quote

import httpx

from common.errors import RenderError
from orchestrator.http_errors import answer_error, unreachable
from orchestrator.http_transfer import fetch_to_file, part_path
from orchestrator.job_record import JobRecord, JobState


class HTTPDownloads:
    """Download methods of HTTPRenderingAPI; they need its client and ``_route``."""

    api_url: str
    _client: httpx.Client
    #: job id -> the absolute local path its video goes to (delivered: its file is there)
    _outputs: dict[str, str]
    _delivered: set[str]

    def _route(self, url: str) -> tuple[httpx.Client, str]:
        """Implemented by HTTPRenderingAPI."""
        raise NotImplementedError

    def download(self, job_id: str, destination: str) -> str:
        """Fetch a completed job's video into a local file (from a pre-signed URL where the
        service redirects to one), resuming after a broken connection; return its path."""
        if job_id in self._delivered and self._outputs.get(job_id) == os.path.abspath(destination):
            if os.path.exists(destination):
                return destination  # wait() delivered it there already
        part = part_path(destination)
        try:
            fetch_to_file(
                self._client,
                job_path(job_id, "/output"),
                part,
                error=self._answer_error,
                route=self._route,
            )
            os.replace(part, destination)
        except httpx.TransportError as exc:
            raise unreachable(self.api_url, exc) from None
        except OSError as exc:
            raise RenderError(f"cannot write {destination}: {exc.strerror or exc}") from None
        finally:
            if os.path.exists(part):
                os.unlink(part)
        return destination

    def output_url(self, job_id: str, expires: int = 3600) -> str:
        """A completed job's video: the pre-signed URL the service redirects to, else the
        service's own download URL (which needs the API key)."""
        path = job_path(job_id, "/output")
        try:
            with self._client.stream("GET", path, params={"expires": expires}) as response:
                if response.is_redirect:
                    return str(response.url.join(response.headers["location"]))
                if response.is_success:
                    return f"{self.api_url}{path}"
                response.read()
                raise answer_error(response, job=True)
        except httpx.TransportError as exc:
            raise unreachable(self.api_url, exc) from None

    def _deliver_to(self, job_id: str, output: str) -> None:
        """Remember where a job submitted here delivers its video (a local path only)."""
        if "://" not in output:
            self._outputs[job_id] = os.path.abspath(output)

    def _delivered_record(self, record: JobRecord) -> JobRecord:
        """The record as this client shows it: a job it delivers names its local path, and a
        completed one is downloaded there first (once)."""
        path = self._outputs.get(record.id)
        if path is None:
            return record
        if record.state is JobState.COMPLETED and record.id not in self._delivered:
            self.download(record.id, path)
            self._delivered.add(record.id)
        return dataclasses.replace(record, output=path)

    def _answer_error(self, response: httpx.Response) -> RenderError:
        on_api = self._route(str(response.request.url))[0] is self._client
        return answer_error(response, job=on_api)


def job_path(job_id: str, tail: str = "") -> str:
    """The path of a job's route; the id is quoted, so it cannot reach another route."""
    if not job_id:
        raise RenderError("no job id given")
    return f"/v1/jobs/{quote(job_id, safe='')}{tail}"
