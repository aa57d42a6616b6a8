namespace Sandbox.AgentTools.Tests;

/// <summary>
/// Just enough protobuf to read an OTLP ExportTraceServiceRequest: field iteration over varint, fixed and
/// length-delimited values (no protobuf library is referenced by the tests).
/// </summary>
internal static class ProtobufReader
{
    public readonly record struct Field(int Number, int WireType, ulong Scalar, ReadOnlyMemory<byte> Bytes);

    public static List<Field> Read(ReadOnlyMemory<byte> message)
    {
        var fields = new List<Field>();
        ReadOnlySpan<byte> span = message.Span;
        int pos = 0;
        while (pos < span.Length)
        {
            ulong key = ReadVarint(span, ref pos);
            int number = (int)(key >> 3);
            int wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    fields.Add(new Field(number, wire, ReadVarint(span, ref pos), default));
                    break;
                case 1:
                    fields.Add(new Field(number, wire, BitConverter.ToUInt64(span.Slice(pos, 8)), default));
                    pos += 8;
                    break;
                case 2:
                    int length = (int)ReadVarint(span, ref pos);
                    fields.Add(new Field(number, wire, 0, message.Slice(pos, length)));
                    pos += length;
                    break;
                case 5:
                    fields.Add(new Field(number, wire, BitConverter.ToUInt32(span.Slice(pos, 4)), default));
                    pos += 4;
                    break;
                default:
                    throw new FormatException($"Unsupported wire type {wire}.");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = span[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
