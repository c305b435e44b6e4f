"""Reports of a run: terminal tables, Markdown, and one self-contained offline HTML file.

from adhere.report import load_run, build_report, render_html
report = build_report(load_run("runs/gpt4o"), load_run("runs/baseline"))
Path("report.html").write_text(render_html(report), encoding="utf-8")
"""

from .build import Report, build_report
from .html import render_html
from .markdown import render_markdown
from .run import RunData, load_run
from .terminal import print_report

__all__ = ["Report", "RunData", "build_report", "load_run", "print_report", "render_html", "render_markdown"]
