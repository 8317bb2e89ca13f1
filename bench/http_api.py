"""Gradio's HTTP API without gradio_client, as `curl` uses it: upload the painting, start the call, read
its result from the event stream, and download the files the result names.

gradio_client waits for server messages by polling every 50 ms (gradio_client/utils.py,
`stream_sse_v1plus` and `check_for_cancel`); a plain HTTP client reads the stream as it arrives, so the
two together show what the app costs and what the client adds.
"""

import json

FILE_DATA = {"_type": "gradio.FileData"}


def call(http, url, api_name, painting, *arguments):
    """The decoded result of `api_name` for the `painting` file and `arguments`, its files downloaded."""
    with open(painting, "rb") as file:
        response = http.post(f"{url}gradio_api/upload", files={"files": file})
    response.raise_for_status()
    data = [{"path": response.json()[0], "meta": FILE_DATA}, *arguments]
    response = http.post(f"{url}gradio_api/call/{api_name}", json={"data": data})
    response.raise_for_status()
    stream = http.get(f"{url}gradio_api/call/{api_name}/{response.json()['event_id']}")
    event, payload = None, None
    for line in stream.text.splitlines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event in ("complete", "error"):
            payload = json.loads(line.removeprefix("data: "))
            break
    if event != "complete":
        raise RuntimeError(f"{api_name} failed: {payload}")
    for file_url in _file_urls(payload):
        http.get(file_url).raise_for_status()
    return payload


def _file_urls(value):
    if isinstance(value, dict):
        if value.get("meta") == FILE_DATA and value.get("url"):
            yield value["url"]
        else:
            for item in value.values():
                yield from _file_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_urls(item)
