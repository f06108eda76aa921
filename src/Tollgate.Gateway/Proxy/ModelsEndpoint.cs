using Tollgate.Gateway.Keys;
using Tollgate.Gateway.Pricing;
using Tollgate.Gateway.Providers;
using Tollgate.Gateway.Storage;

namespace Tollgate.Gateway.Proxy;

/// <summary><c>GET /v1/models</c>: the models the calling key may use, named as the client must send them.</summary>
internal static class ModelsEndpoint
{
    public static async Task HandleAsync(HttpContext context)
    {
        var services = context.RequestServices;
        await services.GetRequiredService<Hosting.ConfigSync>().EnsureFreshAsync();
        var keys = services.GetRequiredService<KeyService>();
        var header = context.Request.Headers.Authorization.ToString();
        var presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : context.Request.Headers["x-api-key"].ToString();
        if (keys.Authenticate(presented) is not { } key)
        {
            await ErrorWriter.WriteAsync(context, ErrorShape.OpenAi, presented.Length == 0 ? GatewayError.MissingApiKey : GatewayError.InvalidApiKey);
            return;
        }

        var prices = services.GetRequiredService<PriceCatalog>();
        var governor = services.GetRequiredService<Governance.Governor>();
        var named = key.Models.Concat(governor.PlanOf(key)?.Models ?? []).ToList();
        var models = new List<object>();
        foreach (var provider in services.GetRequiredService<ProviderRegistry>().List())
        {
            var created = provider.CreatedAt.ToUnixTimeSeconds();
            // Priced models, the provider's declared models, and models the key's or its plan's allowlist names exactly.
            var prefix = provider.Name + "/";
            var listed = named.Where(m => m.StartsWith(prefix, StringComparison.Ordinal) && !m.EndsWith('*')).Select(m => m[prefix.Length..]);
            foreach (var model in prices.PricedModels(provider).Concat(provider.Models).Concat(listed).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var id = prefix + model;
                if (governor.AllowsModel(key, id))
                {
                    models.Add(new { id, @object = "model", created, owned_by = provider.Name });
                }
            }
        }

        // Routes, by the name a client sends.
        foreach (var route in services.GetRequiredService<Routing.RouteTable>().List())
        {
            if (route.AllowedBy(model => governor.AllowsModel(key, model)))
            {
                models.Add(new { id = route.Name, @object = "model", created = route.CreatedAt.ToUnixTimeSeconds(), owned_by = "tollgate" });
            }
        }

        await context.Response.WriteAsJsonAsync(new { @object = "list", data = models }, StoreJson.Options);
    }
}
