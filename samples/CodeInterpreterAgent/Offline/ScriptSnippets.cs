namespace CodeInterpreterAgent.Offline;

/// <summary>The code the offline script sends to the tools (what a model would write).</summary>
internal static class ScriptSnippets
{
    public const string DataPath = "data/sales.csv";

    public const int WebAppPort = 8000;

    /// <summary>Call 1: load the CSV into a variable that later calls reuse.</summary>
    public const string Load = """
        import csv
        with open("data/sales.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        print(f"loaded {len(rows)} rows; columns: {', '.join(rows[0].keys())}")
        print(f"months {rows[0]['month']} .. {rows[-1]['month']}; regions: {', '.join(sorted({r['region'] for r in rows}))}")
        """;

    /// <summary>Call 2: compute on the variable from call 1 (interpreter state is kept between calls).</summary>
    public const string Analyse = """
        from collections import defaultdict
        totals, by_month = defaultdict(float), defaultdict(float)
        for r in rows:  # 'rows' was loaded by the previous call
            amount = float(r["units"]) * float(r["unit_price"])
            totals[r["region"]] += amount
            by_month[r["month"]] += amount
        totals = {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}
        for region, amount in totals.items():
            print(f"{region:<6} {amount:>12,.2f}")
        print(f"total {sum(totals.values()):,.2f}; best region {next(iter(totals))}; best month {max(by_month, key=by_month.get)}")
        """;

    /// <summary>Call 3: a bar chart of the totals drawn by matplotlib (through pandas), saved as a 480x300 PNG.</summary>
    public const string Chart = """
        # Bar chart of `totals` with pandas + matplotlib (both in the default snapshot), saved as a PNG.
        import os
        import matplotlib.pyplot as plt
        import pandas as pd

        revenue = pd.Series(totals, name="revenue")
        fig, ax = plt.subplots(figsize=(4.8, 3.0), dpi=100)
        revenue.plot.bar(ax=ax, color=["#4285f4", "#db4437", "#f4b400", "#0f9d58"], rot=0)
        ax.bar_label(ax.containers[0], labels=[f"{v / 1000:.1f}K" for v in revenue], fontsize=8)
        ax.set_title("Revenue per region")
        ax.set_ylabel("revenue")
        ax.margins(y=0.15)
        fig.tight_layout()
        for path in (os.path.join(os.environ["SANDBOX_OUTPUT_DIR"], "sales_by_region.png"), "sales_by_region.png"):
            fig.savefig(path, format="png", dpi=100)
        width, height = (round(v) for v in fig.get_size_inches() * fig.dpi)
        plt.close(fig)  # saved once above; an open figure would also come back as a second image
        print(f"chart: {width}x{height} PNG, {os.path.getsize('sales_by_region.png')} bytes (also saved as sales_by_region.png for the web app)")
        """;

    /// <summary>The web app: a small WSGI app on the standard library's server.</summary>
    public const string WebApp = """
        "Sales dashboard: a tiny WSGI app (standard library only)."
        import csv, json, sys
        from collections import defaultdict
        from wsgiref.simple_server import WSGIRequestHandler, make_server


        def load():
            totals = defaultdict(float)
            with open("data/sales.csv", newline="") as f:
                for r in csv.DictReader(f):
                    totals[r["region"]] += float(r["units"]) * float(r["unit_price"])
            return {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}


        TOTALS = load()


        def app(environ, start_response):
            path = environ.get("PATH_INFO", "/")
            if path == "/api/totals":
                body, ctype = json.dumps(TOTALS).encode(), "application/json"
            elif path == "/chart.png":
                with open("sales_by_region.png", "rb") as f:
                    body, ctype = f.read(), "image/png"
            elif path == "/":
                rows = "".join(f"<tr><td>{k}</td><td>{v:,.2f}</td></tr>" for k, v in TOTALS.items())
                body = ("<!doctype html><html><head><title>Sales by region</title></head><body>"
                        f"<h1>Sales by region</h1><table>{rows}</table>"
                        '<img src="chart.png" alt="bar chart"></body></html>').encode()
                ctype = "text/html; charset=utf-8"
            else:
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"not found"]
            start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
            return [body]


        class QuietHandler(WSGIRequestHandler):
            def log_message(self, *args):
                pass


        if __name__ == "__main__":
            port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
            with make_server("0.0.0.0", port, app, handler_class=QuietHandler) as server:
                print(f"serving on port {port}", flush=True)
                server.serve_forever()
        """;

    /// <summary>Starts the web app as its own process (from the Python interpreter) and waits until it answers.</summary>
    public const string StartWebApp = """
        import subprocess, time, urllib.request
        log = open("app.log", "w")
        app = subprocess.Popen(["python3", "app.py", "8000"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(100):
            try:
                urllib.request.urlopen("http://127.0.0.1:8000/api/totals", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        print(f"web app running as pid {app.pid}:", open("app.log").read().strip())
        """;
}
