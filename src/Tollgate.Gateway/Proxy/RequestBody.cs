namespace Tollgate.Gateway.Proxy;

/// <summary>Reads a request body into a pooled buffer, refusing anything over the configured limit.</summary>
internal static class RequestBody
{
    public static async ValueTask<(PooledBuffer? Body, GatewayError? Error)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, GatewayError.RequestTooLarge(limit));
        }

        var body = new PooledBuffer((int)Math.Min(request.ContentLength ?? 16 * 1024, limit) + 1);
        try
        {
            while (true)
            {
                var read = await request.Body.ReadAsync(body.GetMemory(16 * 1024), cancellationToken);
                if (read == 0)
                {
                    return (body, null);
                }

                body.Advance(read);
                if (body.Length > limit)
                {
                    body.Dispose();
                    return (null, GatewayError.RequestTooLarge(limit));
                }
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }
}
