"""Screenshots of the plugin's pages as an Airflow user sees them: headless Chromium, driven over the DevTools
protocol, logged in with the api-server's own JWT cookie (`_token`), loads each page from the running
api-server and captures the whole page.

    python tests/plugin_screenshots.py --url http://127.0.0.1:8080 --user U --password-env PW \\
        --out docs/img run:/dtks/runs/<run_id> trace:/dtks/trace?quarter=2026Q3&source_file=...&source_row=4

Not a test (nothing here runs under pytest): it makes the pictures in docs/img/ again.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).parent))
from browser import require_chromium


def token(url: str, user: str, password: str) -> str:
    body = json.dumps({"username": user, "password": password}).encode()
    request = urllib.request.Request(f"{url}/auth/token", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["access_token"]


class Page:
    def __init__(self, socket) -> None:
        self.socket, self.next_id = socket, 0

    async def call(self, method: str, **params):
        self.next_id += 1
        await self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def wait_for(self, event: str) -> None:
        while json.loads(await self.socket.recv()).get("method") != event:
            pass


async def capture(
    ws_url: str, url: str, jwt: str, shots: list[tuple[str, str]], out: Path, width: int, wait: float, height: int
) -> None:
    async with websockets.connect(ws_url, max_size=None) as socket:
        page = Page(socket)
        await page.call("Page.enable")
        await page.call("Network.enable")
        await page.call("Network.setCookie", name="_token", value=jwt, url=url, path="/")
        for name, path in shots:
            await page.call(
                "Emulation.setDeviceMetricsOverride", width=width, height=600, deviceScaleFactor=1, mobile=False
            )
            await page.call("Page.navigate", url=url + path)
            await page.wait_for("Page.loadEventFired")
            await asyncio.sleep(wait)  # Airflow's own UI renders (and loads a plugin's iframe) after the load event
            metrics = await page.call("Page.getLayoutMetrics")
            tall = height or int(metrics["cssContentSize"]["height"]) + 16
            await page.call(
                "Emulation.setDeviceMetricsOverride", width=width, height=tall, deviceScaleFactor=1, mobile=False
            )
            shot = await page.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            (out / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))
            print(out / f"{name}.png", tall)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password-env", required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=0, help="window height; 0: the whole page")
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to wait after the load event")
    parser.add_argument("shots", nargs="+", help="name:path")
    args = parser.parse_args()
    jwt = token(args.url, args.user, os.environ[args.password_env])
    shots = [tuple(s.split(":", 1)) for s in args.shots]
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dtks-cdp-") as profile:
        browser = subprocess.Popen(
            [
                require_chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--lang=id-ID",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for line in browser.stderr:
                found = re.search(r"DevTools listening on (ws://\S+)", line)
                if found:
                    break
            port = re.search(r":(\d+)/", found.group(1)).group(1)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
                target = next(t for t in json.load(response) if t["type"] == "page")
            asyncio.run(
                capture(
                    target["webSocketDebuggerUrl"], args.url, jwt, shots, args.out, args.width, args.wait, args.height
                )
            )
        finally:
            browser.terminate()
            browser.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
