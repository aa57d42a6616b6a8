using System.Globalization;
using System.Text;

namespace CodeInterpreterAgent.Offline;

/// <summary>The sample's data set: a year of monthly unit sales per region and product (deterministic, made up).</summary>
internal static class SalesData
{
    public static readonly string[] Regions = ["North", "South", "East", "West"];

    private static readonly (string Name, decimal Price)[] Products = [("Widget", 12.50m), ("Gadget", 31.00m), ("Gizmo", 7.25m)];

    /// <summary>The CSV text: <c>month,region,product,units,unit_price</c>, 144 rows.</summary>
    public static string Csv()
    {
        var csv = new StringBuilder("month,region,product,units,unit_price\n");
        for (int month = 1; month <= 12; month++)
        {
            for (int r = 0; r < Regions.Length; r++)
            {
                for (int p = 0; p < Products.Length; p++)
                {
                    // A seasonal curve per region plus a little deterministic noise.
                    int units = 40 + (r * 17) + (p * 9) + (int)(25 * Math.Sin((month + (r * 3)) / 12.0 * 2 * Math.PI)) + ((month * 7 + r * 5 + p * 3) % 11);
                    csv.Append(CultureInfo.InvariantCulture, $"2025-{month:00},{Regions[r]},{Products[p].Name},{units},{Products[p].Price:0.00}\n");
                }
            }
        }

        return csv.ToString();
    }

    /// <summary>Revenue per region computed on the host, to check what the sandbox computed.</summary>
    public static IReadOnlyDictionary<string, decimal> RevenueByRegion()
    {
        var totals = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (string line in Csv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1))
        {
            string[] cells = line.Split(',');
            decimal amount = decimal.Parse(cells[3], CultureInfo.InvariantCulture) * decimal.Parse(cells[4], CultureInfo.InvariantCulture);
            totals[cells[1]] = totals.GetValueOrDefault(cells[1]) + amount;
        }

        return totals;
    }
}
