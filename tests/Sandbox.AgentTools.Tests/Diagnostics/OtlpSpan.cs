using System.Text;

namespace Sandbox.AgentTools.Tests;

/// <summary>A span decoded from OTLP protobuf: name, ids and string/bool/int attributes.</summary>
internal sealed record OtlpSpan(string Name, string TraceId, string SpanId, string ParentSpanId, string Scope, IReadOnlyDictionary<string, object> Attributes, int StatusCode)
{
    /// <summary>Decodes ExportTraceServiceRequest → ResourceSpans(1) → ScopeSpans(2) → Span(2).</summary>
    public static List<OtlpSpan> Decode(byte[] body)
    {
        var spans = new List<OtlpSpan>();
        foreach (ProtobufReader.Field resourceSpans in ProtobufReader.Read(body).Where(f => f.Number == 1))
        {
            foreach (ProtobufReader.Field scopeSpans in ProtobufReader.Read(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                List<ProtobufReader.Field> scopeFields = ProtobufReader.Read(scopeSpans.Bytes);
                string scope = scopeFields.Where(f => f.Number == 1).Select(f => Text(ProtobufReader.Read(f.Bytes), 1)).FirstOrDefault() ?? "";
                foreach (ProtobufReader.Field span in scopeFields.Where(f => f.Number == 2))
                {
                    List<ProtobufReader.Field> s = ProtobufReader.Read(span.Bytes);
                    var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
                    foreach (ProtobufReader.Field kv in s.Where(f => f.Number == 9))
                    {
                        List<ProtobufReader.Field> pair = ProtobufReader.Read(kv.Bytes);
                        string key = Text(pair, 1) ?? "";
                        ProtobufReader.Field? any = pair.Where(f => f.Number == 2).Select(f => (ProtobufReader.Field?)f).FirstOrDefault();
                        if (any is { } value)
                        {
                            ProtobufReader.Field v = ProtobufReader.Read(value.Bytes).FirstOrDefault();
                            attributes[key] = v.Number switch
                            {
                                1 => Encoding.UTF8.GetString(v.Bytes.Span),
                                2 => v.Scalar != 0,
                                3 => (long)v.Scalar,
                                _ => "(other)",
                            };
                        }
                    }

                    int status = s.Where(f => f.Number == 15).Select(f => ProtobufReader.Read(f.Bytes).Where(x => x.Number == 3).Select(x => (int)x.Scalar).FirstOrDefault()).FirstOrDefault();
                    spans.Add(new OtlpSpan(Text(s, 5) ?? "", Hex(s, 1), Hex(s, 2), Hex(s, 4), scope, attributes, status));
                }
            }
        }

        return spans;
    }

    private static string? Text(List<ProtobufReader.Field> fields, int number) =>
        fields.Where(f => f.Number == number && f.WireType == 2).Select(f => Encoding.UTF8.GetString(f.Bytes.Span)).FirstOrDefault();

    private static string Hex(List<ProtobufReader.Field> fields, int number) =>
        fields.Where(f => f.Number == number && f.WireType == 2).Select(f => Convert.ToHexStringLower(f.Bytes.Span)).FirstOrDefault() ?? "";
}
