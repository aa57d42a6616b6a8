namespace CodeInterpreterAgent.Agent;

/// <summary>What the model is told.</summary>
internal static class Prompts
{
    public const string System = """
        You are a data analyst with a sandboxed Linux box. Use the tools: write_file to save files, run_code to run
        Python (a persistent interpreter: variables stay defined between calls), JavaScript or bash, read_file and
        list_files to look around, expose_port to publish a web server running in the box. Images saved to the folder in
        the SANDBOX_OUTPUT_DIR environment variable, and matplotlib figures left open, come back to you as images (numpy,
        pandas and matplotlib are installed). Start servers in the background (subprocess.Popen from Python, or
        setsid nohup ... & in bash), wait until they answer, then call expose_port.
        Keep answers short and give the user the browser URL of anything you publish.
        """;

    /// <summary>The default first message in model mode (the CSV is attached below it).</summary>
    public const string DefaultTask = """
        Here are a year of monthly sales as CSV. Save them to data/sales.csv, load them in Python, compute the revenue
        (units x unit_price) per region and the best month, draw a bar chart of revenue per region as a PNG, then build
        a tiny web app on port 8000 that shows the table and the chart, expose it and give me its browser URL.
        """;

    /// <summary>The second agent session's question (Agent Framework variant, model mode).</summary>
    public const string IsolationCheck =
        "Use your tools to check whether your sandbox has a Python variable named 'rows' or a file data/sales.csv, and say what you found.";
}
