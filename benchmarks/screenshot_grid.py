"""A PNG of a run's grid view in the Airflow UI, through headless Chromium (Debian's `chromium`) driven over
the DevTools protocol: the API token is given to the UI as its `_token` cookie, the page is opened and
captured once rendered.

    .venv/bin/python benchmarks/screenshot_grid.py --url http://127.0.0.1:8080 --run-id RUN --png docs/img/x.png
    (the password from DTKS_AIRFLOW_PASSWORD)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.deploy.api import DAG_ID, Client
from pipelines.deploy.processes import free_port


async def capture(ws_url: str, base: str, token: str, page: str, png: Path, wait: float) -> None:
    async with websockets.connect(ws_url, max_size=64 * 1024 * 1024) as ws:
        ids = iter(range(1, 1000))

        async def call(method: str, **params) -> dict:
            number = next(ids)
            await ws.send(json.dumps({"id": number, "method": method, "params": params}))
            while True:
                answer = json.loads(await ws.recv())
                if answer.get("id") == number:
                    return answer.get("result", {})

        await call("Network.enable")
        await call("Page.enable")
        await call("Network.setCookie", name="_token", value=token, url=base)
        await call("Page.navigate", url=page)
        await asyncio.sleep(wait)
        shot = await call("Page.captureScreenshot", format="png")
        png.write_bytes(base64.b64decode(shot["data"]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--user", default="admin")
    parser.add_argument("--png", type=Path, required=True)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--wait", type=float, default=15.0)
    parser.add_argument("--path", default="/dags/{dag}/runs/{run}", help="page under the UI, {dag} and {run}")
    args = parser.parse_args()
    with Client(args.url, args.user, os.environ["DTKS_AIRFLOW_PASSWORD"]) as client:
        token = client.token()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dtks-cdp-") as profile:
        browser = subprocess.Popen(
            [
                "chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--force-device-scale-factor=1",
                f"--user-data-dir={profile}",
                f"--window-size={args.width},{args.height}",
                f"--remote-debugging-port={port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
                    break
                except OSError:
                    time.sleep(0.2)
            ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            page = args.url.rstrip("/") + args.path.format(dag=DAG_ID, run=args.run_id)
            args.png.parent.mkdir(parents=True, exist_ok=True)
            asyncio.run(capture(ws_url, args.url, token, page, args.png, args.wait))
        finally:
            browser.terminate()
            browser.wait(10)
    print(args.png)


if __name__ == "__main__":
    main()
