"""Find and remove what crashed or killed runs left on the engine, by label only."""

from __future__ import annotations

from typing import Any

from repro import owner
from repro.sandbox.api import Leftover
from repro.sandbox.docker import labels
from repro.sandbox.docker.engine import Engine, translated


def _resources(engine: Engine) -> list[tuple[str, Any, dict[str, str]]]:
    client = engine.client()
    selector = {"label": [labels.MANAGED, labels.RUN]}  # both: set only at sandbox creation
    found: list[tuple[str, Any, dict[str, str]]] = []
    with translated("listing repro's resources"):
        # The plain list call: no per-container inspect that a concurrent removal could
        # make fail with "no such container".
        for entry in client.api.containers(all=True, filters=selector):
            model = client.containers.prepare_model({"Id": entry["Id"],
                                                     "Name": entry["Names"][0]})
            found.append(("container", model, entry.get("Labels") or {}))
        for network in client.networks.list(filters=selector):
            found.append(("network", network, network.attrs.get("Labels") or {}))
        for volume in client.volumes.list(filters=selector):
            found.append(("volume", volume, volume.attrs.get("Labels") or {}))
    return found


def collect(engine: Engine, run_id: str | None = None, include_kept: bool = False,
            dry_run: bool = False, force: bool = False) -> list[Leftover]:
    """Remove leftovers of dead runs (or of `run_id`); report each with what happened."""
    import docker

    report = []
    # Containers before networks and volumes: those are in use while a container exists.
    for kind, resource, tags in _resources(engine):
        rid = tags.get(labels.RUN, "?")
        reason = None
        if run_id is not None and rid != run_id:
            continue
        who = tags.get(labels.OWNER, "")
        in_use = False
        if run_id is not None and not force and owner.alive(who) and \
                not tags.get(labels.KEEP):
            reason, in_use = (f"its run is still going (repro process {owner.pid(who)}); "
                              "stop it with Ctrl-C, or pass --force"), True
        elif run_id is None and owner.alive(who):
            reason, in_use = f"its run is still going (repro process {owner.pid(who)})", True
        elif run_id is None and not include_kept and not owner.here(who):
            reason = (f"created by repro on host {who.split(':')[0] or '?'}, whose runs this "
                      "host cannot see (remove with `repro gc --run ID` or `--all`)")
        elif run_id is None and tags.get(labels.KEEP) and not include_kept:
            reason = "kept with --keep (remove with `repro gc --run ID` or `--all`)"
        if reason is None and not dry_run:
            try:
                if kind == "container":
                    resource.remove(force=True, v=True)
                else:
                    resource.remove()
            except docker.errors.NotFound:
                pass  # gone meanwhile: what we wanted
            except docker.errors.APIError as exc:
                if "already in progress" not in str(exc.explanation):  # a concurrent gc
                    reason = f"the engine refused: {exc.explanation}"
        report.append(Leftover(kind, resource.name, rid, reason, in_use=in_use))
    return report


def collect_images(engine: Engine, environment: str | None = None,
                   dry_run: bool = False) -> list[Leftover]:
    """Cached environment images (rebuilt on demand) that no container uses."""
    import docker

    from repro.sandbox.docker.images import repository

    client = engine.client()
    prefix = None if environment is None else repository(environment)
    report = []
    with translated("listing cached images"):
        cached = client.images.list(filters={"label": labels.CACHE_KEY})
    for image in cached:
        tags = [t for t in image.tags if prefix is None or t.split(":")[0] == prefix or
                t.startswith(prefix + "-")]
        if not tags:
            continue
        with translated("listing containers"):
            users = client.api.containers(all=True, filters={"ancestor": image.id})
        reason = f"used by {len(users)} container(s)" if users else None
        if reason is None and not dry_run:
            try:
                for tag in tags:
                    client.images.remove(tag)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                reason = f"the engine refused: {exc.explanation}"
        report.append(Leftover("image", ", ".join(tags), "-", reason))
    return report
