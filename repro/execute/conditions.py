"""Carry a plan's conditions into the sandbox: the containers' settings (timezone, locale,
hostname, small disks, limits), the zone file an image lacks, and the images with the
run's locale compiled in."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

from repro import tarball
from repro.config import model
from repro.config.model import DROPPED_CAPABILITIES
from repro.errors import ConfigError, SandboxError
from repro.plan.values import Plan
from repro.results.record import RunRecord
from repro.sandbox import api

ZONEINFO = "/usr/share/zoneinfo"

# Is the locale there? If not, can this image compile it? One shell run as root; the exit
# code says which (the last line of output is localedef's complaint, when it fails). It
# runs once per image and locale: the backend keeps the result as an image of its own.
LOCALE_SCRIPT = r"""
want=$1 norm=$2 source=$3 charmap=$4
if command -v locale >/dev/null 2>&1 && locale -a 2>/dev/null | grep -qixF -e "$want" -e "$norm"
then exit 0; fi
ls /lib/ld-musl-* >/dev/null 2>&1 && exit 3
command -v localedef >/dev/null 2>&1 || exit 4
[ -e "/usr/share/i18n/locales/$source" ] || exit 5
if [ -z "$charmap" ]; then
  charmap=$(sed -n "s/^$want \([^ ]*\).*/\1/p" /usr/share/i18n/SUPPORTED 2>/dev/null | head -n 1)
fi
localedef -i "$source" -f "${charmap:-UTF-8}" "$want" 2>&1 || exit 6
exit 10
"""
COMPILED = 10  # LOCALE_SCRIPT's exit when it compiled the locale
_PACKAGE = "Debian/Ubuntu: install the package `locales` in the image"
_LACKS = {
    3: "its C library is musl (Alpine), which cannot compile locales; replay it on a "
       "glibc-based image (Debian, Ubuntu)",
    4: f"it has no localedef ({_PACKAGE})",
    5: f"it has no locale sources in /usr/share/i18n ({_PACKAGE})",
    126: "it has no shell to check its locales with",
    127: "it has no shell to check its locales with",
}


def limits(limits: model.Limits) -> api.Limits:
    return api.Limits(limits.cpus, limits.memory, limits.pids, limits.shm_size,
                      {name: (u.soft, u.ceiling) for name, u in limits.ulimits.items()})


def applied(plan: Plan, spec: api.ContainerSpec, steps: bool) -> api.ContainerSpec:
    """The container with the run's timezone and locale (over the environment's own env:
    TZ/LANG/LC_ALL) and privileges, and for the steps' one its hostname and small disks."""
    conditions = plan.conditions
    security = plan.security
    spec = replace(spec, env={**spec.env, **conditions.env()},
                   no_new_privileges=security.no_new_privileges,
                   cap_drop=tuple(c for c in DROPPED_CAPABILITIES
                                  if c not in security.capabilities),
                   cap_add=tuple(c for c in security.capabilities
                                 if c not in DROPPED_CAPABILITIES))
    if steps:
        spec = replace(spec, hostname=conditions.hostname, tmpfs=dict(conditions.tmpfs))
    return spec


def before_start(plan: Plan, backend: api.Backend, sandbox: api.Sandbox, record: RunRecord,
                 say: Callable[[str], None]) -> None:
    """Every container whose image has no file for the run's zone gets repro's, at the
    place every C library and runtime looks (glibc would silently use UTC instead)."""
    zone = plan.conditions.zone_file
    if zone is None:
        return
    body = backend.zone_file(zone, say)
    if body is None:
        where = plan.conditions.where("timezone")
        raise ConfigError(where.problem("timezone", f"unknown timezone {zone!r}: repro's tz "
                                        "database has no such zone"))
    path = f"{ZONEINFO}/{zone}"
    delivered: dict[str, str] = {}
    for role, container in [("sandbox", sandbox.main), *sandbox.services.items()]:
        found = container.copy_out(path)
        if found is not None:
            for _ in found:  # drain: the image's own tzdata is the customer's
                pass
            delivered[role] = "image"
            continue
        buf = io.BytesIO()
        with tarball.writer(buf) as tar:
            tarball.add_bytes(tar, path.lstrip("/"), body)
        container.copy_in(buf.getvalue())
        delivered[role] = "repro"
    record.conditions["zone_file"] = delivered


def with_locale(plan: Plan, backend: api.Backend, images: dict[str, str], record: RunRecord,
                say: Callable[[str], None]) -> dict[str, str]:
    """The image each container (by role) starts from: with the run's locale compiled in
    where its image lacks it, made once per image and locale, then cached.

    The steps' container must have it: the run stops in one line when its image cannot.
    A service whose image cannot runs without it (in C, as glibc does then), which is
    said as a warning and in the record."""
    wanted = plan.conditions.locale_to_prepare
    if wanted is None:
        return images
    name, _, modifier = wanted.partition("@")
    source, _, codeset = name.partition(".")
    suffix = f"@{modifier}" if modifier else ""
    norm = f"{source}.{codeset.lower().replace('-', '')}{suffix}" if codeset else wanted
    change = api.ImageChange(f"the locale {wanted}", f"locale {wanted}", LOCALE_SCRIPT,
                             (wanted, norm, source + suffix, codeset), changed=COMPILED)
    chosen, services = dict(images), {}
    for role, image in images.items():
        try:
            made = backend.change_image(image, change, say)
            reason = None if made.exit_code in (0, COMPILED) else _lacks(made)
        except SandboxError as exc:  # the engine could not even try
            if role == "sandbox":
                raise
            reason = str(exc)
        if reason is None:
            chosen[role] = made.id
            prepared = "generated" if made.exit_code == COMPILED else "image"
            if made.id != image:  # the record says which image the container ran
                record.conditions.setdefault("locale_images", {})[role] = made.id
        elif role == "sandbox":
            where = plan.conditions.where("locale")
            raise ConfigError(where.problem("locale", "the image cannot provide the "
                                            f"locale {wanted}: {reason}"))
        else:
            say(f"warning: service {role!r} runs without the locale {wanted} (in C): its "
                f"image cannot provide it: {reason}")
            prepared = f"unavailable: {reason}"
        if role == "sandbox":
            record.conditions["locale_prepared"] = prepared
        else:
            services[role] = prepared
    if services:
        record.conditions["locale_prepared_services"] = services
    return chosen


def _lacks(made: api.ChangedImage) -> str:
    """What the image lacks, from the locale script's exit and last line."""
    said = made.output.strip().splitlines()
    return _LACKS.get(made.exit_code) or (f"localedef failed: {said[-1][:160]}" if said
                                          else f"the check exited {made.exit_code}")
