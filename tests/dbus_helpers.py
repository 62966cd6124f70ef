"""A private D-Bus session bus and a small org.freedesktop.Notifications server for tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from dbus_fast.aio import MessageBus
from dbus_fast.annotations import DBusSignature, DBusStr, DBusUInt32
from dbus_fast.service import ServiceInterface, dbus_method, dbus_signal

DBUS_DAEMON = shutil.which("dbus-daemon") or "/usr/bin/dbus-daemon"

CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class SessionBus:
    """A dbus-daemon of our own in a temporary folder; stop() ends it by its pid."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "bus"
        config = folder / "session.conf"
        config.write_text(CONFIG.format(socket=self.socket), encoding="utf-8")
        self.process = subprocess.Popen(
            [DBUS_DAEMON, f"--config-file={config}", "--nofork", "--print-address"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.address = self.process.stdout.readline().strip()
        if not self.address:
            self.stop()
            raise RuntimeError("dbus-daemon did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class Notify:
    """One Notify call as the server received it."""

    app_name: str
    summary: str
    body: str
    hints: dict[str, Any] = field(default_factory=dict)


class Notifications(ServiceInterface):
    """Records Notify calls; with `hang`, never answers them."""

    def __init__(self, hang: bool = False) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.calls: list[Notify] = []
        self.hang = hang
        self.gate: asyncio.Event | None = None
        self.received = threading.Event()

    @dbus_method()
    async def Notify(  # noqa: N802 -- the D-Bus method's name
        self, app_name: DBusStr, replaces_id: DBusUInt32, app_icon: DBusStr, summary: DBusStr,
        body: DBusStr, actions: Annotated[list[str], DBusSignature("as")],
        hints: Annotated[dict[str, Any], DBusSignature("a{sv}")],
        expire_timeout: Annotated[int, DBusSignature("i")],
    ) -> DBusUInt32:
        self.calls.append(Notify(app_name, summary, body, dict(hints)))
        self.received.set()
        if self.hang:
            self.gate = self.gate or asyncio.Event()
            await self.gate.wait()
        return len(self.calls)

    @dbus_method()
    def GetCapabilities(self) -> Annotated[list[str], DBusSignature("as")]:  # noqa: N802
        return ["body"]

    @dbus_method()
    def GetServerInformation(  # noqa: N802
        self) -> Annotated[tuple[str, str, str, str], DBusSignature("ssss")]:
        return ("srs-test", "srs", "1.0", "1.2")

    @dbus_method()
    def CloseNotification(self, notification_id: DBusUInt32):  # type: ignore[no-untyped-def]  # noqa: N802
        return None

    @dbus_signal()
    def NotificationClosed(self) -> Annotated[tuple[int, int], DBusSignature("uu")]:  # noqa: N802
        return (0, 0)

    @dbus_signal()
    def ActionInvoked(self) -> Annotated[tuple[int, str], DBusSignature("us")]:  # noqa: N802
        return (0, "")


class NotificationServer:
    """Serves `Notifications` on the bus at `address` from a thread with its own loop."""

    def __init__(self, address: str, hang: bool = False) -> None:
        self.address = address
        self.interface = Notifications(hang)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._bus: MessageBus | None = None
        self.thread = threading.Thread(target=self._run, name="notification-server", daemon=True)
        self.thread.start()
        if not self._ready.wait(10) or self._error is not None:
            raise RuntimeError(f"notification server did not start: {self._error}")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as err:  # reported to the test thread
            self._error = err
            self._ready.set()
            return
        self.loop.run_forever()

    async def _serve(self) -> None:
        self._bus = await MessageBus(bus_address=self.address).connect()
        self._bus.export("/org/freedesktop/Notifications", self.interface)
        await self._bus.request_name("org.freedesktop.Notifications")
        self._ready.set()

    @property
    def calls(self) -> list[Notify]:
        return self.interface.calls

    def stop(self) -> None:
        async def close() -> None:
            if self.interface.gate is not None:
                self.interface.gate.set()  # let a hanging Notify answer before the bus goes
                await asyncio.sleep(0.05)
            if self._bus is not None:
                self._bus.disconnect()
                await self._bus.wait_for_disconnect()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()
