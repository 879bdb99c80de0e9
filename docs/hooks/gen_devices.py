"""MkDocs hook: one page per device, generated at build time from the spec files.

For every device of :func:`roofline.list_devices` the hook adds ``devices/<key>.md`` to the build, in
memory (``File.generated``), with the device's identity, its memory levels and links, its ridge points, a
table of every figure (path, value, range, basis, sources, note) and its sources; plus ``devices/index.md``,
a table of all devices. ``on_config`` replaces the ``Devices: devices/index.md`` entry of the nav with that
section and one entry per device. Nothing is written into ``docs/``: change a spec file and the pages change
on the next build (``mkdocs serve`` watches ``hardware_specs/``).

Numbers are formatted by :func:`roofline.outputs.format.human`, as ``roofline show`` prints them; ridge points come
from :func:`roofline.engine.roofline_table`. No figure is computed here.
"""

from __future__ import annotations

import html
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

SECTION = "devices"
INDEX = f"{SECTION}/index.md"


def _devices():
    import roofline

    return roofline.list_devices()


# ----------------------------------------------------------------------------------------------------
# mkdocs events
# ----------------------------------------------------------------------------------------------------
def on_config(config):
    nav = config.get("nav")
    if not nav:
        raise PluginError("gen_devices hook: mkdocs.yml needs an explicit nav with an entry 'Devices: devices/index.md'")
    entries = [INDEX] + [{f"{d.name}": f"{SECTION}/{d.key}.md"} for d in _devices()]
    for i, item in enumerate(nav):
        if isinstance(item, dict) and len(item) == 1:
            (title, target), = item.items()
            if target == INDEX:
                nav[i] = {title: entries}
                return config
    raise PluginError(f"gen_devices hook: the nav has no entry pointing at {INDEX}")


def on_files(files, config):
    devices = _devices()
    for page in (INDEX, *(f"{SECTION}/{d.key}.md" for d in devices)):
        if files.get_file_from_path(page) is not None:
            raise PluginError(f"gen_devices hook: docs/{page} exists on disk; device pages are generated, remove it")
    files.append(File.generated(config, INDEX, content=index_page(devices)))
    for dev in devices:
        files.append(File.generated(config, f"{SECTION}/{dev.key}.md", content=device_page(dev)))
    return files


def on_serve(server, config, builder):
    from roofline.hardware import spec_search_path

    for p in spec_search_path():
        if Path(p).exists():
            server.watch(str(p))
    return server


# ----------------------------------------------------------------------------------------------------
# pages
# ----------------------------------------------------------------------------------------------------
def index_page(devices) -> str:
    from roofline.outputs.format import human
    from roofline.outputs.report import device_summary

    out = [
        "# Devices",
        "",
        "Every device the library knows, one page each. These pages are generated when the site is built, from "
        "the spec files in `hardware_specs/` (see [the spec format](../spec-format.md)): each figure is shown "
        "with its unit, its range where it is an estimate, its basis and its sources, exactly as the library "
        "loads it. `roofline list` and `roofline show KEY` print the same data in a terminal.",
        "",
        "| key | device | vendor | kind | year | status | BF16 dense peak | main memory | bandwidth |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in devices:
        s = device_summary(d)
        bf16 = human(s["bf16_dense_flops_per_s"], "FLOP/s", 4) if s["bf16_dense_flops_per_s"] else "—"
        if d.compute.get("bf16", {}).get("dense") is not None and d.compute["bf16"]["dense"].is_range:
            bf16 += " (estimate)"
        out.append(
            f"| [`{d.key}`]({d.key}.md) | {_t(d.name)} | {_t(d.vendor)} | {d.kind} | {d.year or ''} | {d.status} "
            f"| {bf16} | {human(s['main_memory_capacity_bytes'], 'B', 4)} {s['main_memory']} "
            f"| {human(s['main_memory_bandwidth_bytes_per_s'], 'B/s', 4)} |")
    out += ["", "Main memory is the fastest level that is not a cache or a register file (HBM on a GPU, on-wafer SRAM on a WSE-3 or a Dojo tile).",
            "Where any figure of a device is an estimate, every result for that device is a range "
            "(see [estimate ranges](../methodology.md#estimate-ranges)).", ""]
    return "\n".join(out)


def device_page(dev) -> str:
    from roofline.outputs.format import human

    spec_file = Path(dev.file)
    shown_file = f"hardware_specs/{spec_file.name}" if spec_file.parent.name == "hardware_specs" else spec_file.name
    out = [f"# {_t(dev.name)}", ""]
    if dev.summary:
        out += [_t(dev.summary), ""]
    if dev.is_estimate:
        n = sum(f.is_range for f in dev.figures.values())
        kind = "warning" if dev.status == "unreleased" else "note"
        out += [f'!!! {kind} "Ranges"', "",
                f"    {n} of this device's {len(dev.figures)} figures are known only as ranges (estimates, or "
                "derived from estimates)" + (": the device is unreleased" if dev.status == "unreleased" else "")
                + ". Results for it are reported at the nominal values with a best–worst range "
                "(see [estimate ranges](../methodology.md#estimate-ranges)).", ""]

    # identity
    ident = [("key", f"`{dev.key}`"), ("aliases", ", ".join(f"`{a}`" for a in dev.aliases) or "—"),
             ("vendor", _t(dev.vendor)), ("kind", dev.kind), ("year", str(dev.year or "—")),
             ("process", _t(dev.process) or "—"), ("status", dev.status), ("spec file", f"`{shown_file}`")]
    if dev.composition:
        part, count = dev.composition
        ident.append(("built from", f"{count} × [`{part}`]({part}.md)"))
    out += ["## Identity", "", "| field | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in ident), ""]

    # memory and links
    out += ["## Memory hierarchy", "", "Fastest first.", "",
            "| level | label | kind | capacity | bandwidth | latency |", "|---|---|---|---|---|---|"]
    for m in dev.memory:
        out.append(f"| `{m.name}` | {_t(m.label)} | {m.kind} | {_fig(m.capacity)} | {_fig(m.bandwidth)} "
                   f"| {_fig(m.latency)} |")
    out.append("")
    if dev.interconnect:
        out += ["## Interconnect", "",
                "Bandwidth as the source states it; the engine divides a `bidirectional-total` figure by two "
                "for the bandwidth in one direction.", "",
                "| link | label | duplex | bandwidth | per direction | latency | devices per domain |",
                "|---|---|---|---|---|---|---|"]
        for lk in dev.interconnect:
            out.append(f"| `{lk.name}` | {_t(lk.label)} | {lk.duplex} | {_fig(lk.bandwidth)} "
                       f"| {human(lk.per_direction_bytes_per_s, 'B/s')} | {_fig(lk.latency)} "
                       f"| {lk.devices_per_domain if lk.domain_size is not None else '—'} |")
        out.append("")
    else:
        out += ["## Interconnect", "", "The spec file describes no links: this device runs alone.", ""]

    # ridge points
    out += _ridge_points(dev)

    # every figure
    out += ["## Every figure", "",
            "Paths as used in formulas, error messages and `roofline show`; bases as in "
            "[the spec format](../spec-format.md#a-figure).", "",
            "| figure | value | range | basis | source | note |", "|---|---|---|---|---|---|"]
    for p, f in dev.figures.items():
        rng = f"{_h(f.low, f.unit)} – {_h(f.high, f.unit)}" if f.is_range else ""
        src = "; ".join(_source_link(dev, s) for s in f.sources)
        note = []
        if f.formula:
            note.append(f"= `{f.formula}`")
        if f.published is not None:
            note.append(f"(published: {_h(f.published, f.unit)})")
        if f.locator:
            note.append(f"[{_t(f.locator)}]")
        if f.note:
            note.append(_t(f.note))
        out.append(f"| `{p}` | {_h(f.value, f.unit)} | {rng} | {f.basis} | {src} | {' '.join(note)} |")
    out.append("")

    # sources
    out += ["## Sources", ""]
    for sid, s in dev.sources.items():
        title = _t(s.get("title", sid))
        line = f"- **{title}**" if not s.get("url") else f"- **[{title}]({_url(s['url'])})**"
        extra = [_t(s[k]) for k in ("authors", "publisher", "date") if s.get(k)]
        if extra:
            line += ", " + ", ".join(extra)
        line += f" (`{sid}`)"
        if s.get("locator"):
            line += f"; {_t(s['locator'])}"
        if s.get("note"):
            line += f". {_t(s['note'])}"
        out.append(line)
    out += ["", f"*Generated from `{shown_file}` when this site was built.*", ""]
    return "\n".join(out)


def _ridge_points(dev) -> list[str]:
    from roofline.engine import roofline_table
    from roofline.outputs.format import human

    rows = roofline_table(dev)
    if not rows:
        return []
    out = ["## Ridge points", "",
           "Dense peak over each level's bandwidth, $P/BW$: the arithmetic intensity above which a kernel "
           "whose data lives in that level is compute-bound (see [the methodology](../methodology.md#the-roofline)).",
           "", "| data type | level | peak | bandwidth | ridge point |", "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['dtype']} | `{r['level']}` | {human(r['peak_flops_per_s'], 'FLOP/s')} "
                   f"| {human(r['bandwidth_bytes_per_s'], 'B/s')} | {human(r['ridge_flops_per_byte'], 'FLOP/B')} |")
    out.append("")
    return out


# ----------------------------------------------------------------------------------------------------
# formatting
# ----------------------------------------------------------------------------------------------------
def _h(value, unit: str) -> str:
    from roofline.outputs.format import human

    if unit == "m^2" and value is not None:
        return f"{value * 1e6:,.4g} mm²"
    return human(value, unit)


def _fig(f) -> str:
    if f is None:
        return "—"
    s = _h(f.value, f.unit)
    if f.is_range:
        s += f" ({_h(f.low, f.unit)} – {_h(f.high, f.unit)})"
    return s


def _source_link(dev, sid: str) -> str:
    s = dev.sources.get(sid, {})
    title = _t(s.get("title", sid))
    return f"[{title}]({_url(s['url'])})" if s.get("url") else title


def _url(url: str) -> str:
    return url.strip().replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _t(s) -> str:
    """Text from a spec file, safe in a Markdown table cell: no HTML, no table breaks, no emphasis."""
    s = html.escape(" ".join(str(s).split()), quote=False)
    for ch, ent in (("|", "&#124;"), ("*", "&#42;"), ("_", "&#95;"), ("`", "&#96;"), ("[", "&#91;"),
                    ("]", "&#93;"), ("$", "&#36;"), ("\\", "&#92;")):
        s = s.replace(ch, ent)
    return s
