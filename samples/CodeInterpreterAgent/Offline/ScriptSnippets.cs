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

    /// <summary>Call 3: a bar chart of the totals as a real PNG, written with the standard library only (no matplotlib needed).</summary>
    public const string Chart = """
        # Bar chart of `totals` as a PNG, with nothing but the standard library (works without matplotlib).
        import os, struct, zlib
        W, H, PAD = 480, 300, 30
        FONT = {  # 3x5 pixel glyphs for the labels
            "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
            "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
            "8": "111101111101111", "9": "111101111001111", "N": "110101101101101", "S": "111100111001111",
            "E": "111100111100111", "W": "101101101111101", "K": "101110100110101", ".": "000000000000010",
        }
        px = [[(255, 255, 255)] * W for _ in range(H)]

        def rect(x0, y0, x1, y1, color):
            for y in range(max(0, y0), min(H, y1)):
                row = px[y]
                for x in range(max(0, x0), min(W, x1)):
                    row[x] = color

        def text(x, y, s, color=(40, 40, 40), scale=3):
            for ch in s.upper():
                for i, bit in enumerate(FONT.get(ch, "")):
                    if bit == "1":
                        gx, gy = x + (i % 3) * scale, y + (i // 3) * scale
                        rect(gx, gy, gx + scale, gy + scale, color)
                x += 4 * scale

        palette = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88)]
        regions, top = list(totals), max(totals.values())
        slot = (W - 2 * PAD) // len(regions)
        rect(PAD, H - PAD, W - PAD, H - PAD + 2, (0, 0, 0))
        rect(PAD, PAD, PAD + 2, H - PAD, (0, 0, 0))
        for i, region in enumerate(regions):
            h = int((H - 3 * PAD) * totals[region] / top)
            x0 = PAD + i * slot + slot // 5
            rect(x0, H - PAD - h, x0 + slot * 3 // 5, H - PAD, palette[i % len(palette)])
            text(x0, H - PAD + 6, region[:1])
            text(x0, H - PAD - h - 20, f"{totals[region] / 1000:.1f}K")

        def chunk(kind, data):
            body = kind + data
            return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

        raw = b"".join(b"\x00" + bytes(c for p in row for c in p) for row in px)
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
               + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
        for path in (os.path.join(os.environ["SANDBOX_OUTPUT_DIR"], "sales_by_region.png"), "sales_by_region.png"):
            with open(path, "wb") as f:
                f.write(png)
        print(f"chart: {W}x{H} PNG, {len(png)} bytes (also saved as sales_by_region.png for the web app)")
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
