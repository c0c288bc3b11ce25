using System.Security.Claims;
using LiveGrains.Abstractions;
using LiveGrains.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LiveGrains.Gateway.Apis;

/// <summary>
/// Presets (api.md, "Presets and limits"): a tenant's named chat, join-limit and recording settings; a room names one
/// with <c>preset_id</c>, else the tenant's default applies. API keys only (tokens are refused by <see cref="AccessPolicy"/>).
/// </summary>
public static class PresetsApi
{
    public static RouteGroupBuilder MapPresetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/presets").WithTags("Presets").RequireAuthorization();
        api.MapPost("/", CreatePresetAsync).WithName("CreatePreset")
            .WithSummary("Creates a preset; with is_default it becomes the tenant's default (the previous default no longer is).");
        api.MapGet("/", ListPresetsAsync).WithName("ListPresets").WithSummary("Every preset of the tenant, oldest first.");
        api.MapGet("/{presetId}", GetPresetAsync).WithName("GetPreset").WithSummary("Gets a preset.");
        api.MapPatch("/{presetId}", UpdatePresetAsync).WithName("UpdatePreset")
            .WithSummary("Changes a preset (max_join_limit: null removes the limit); lives created from then on use it.");
        api.MapDelete("/{presetId}", DeletePresetAsync).WithName("DeletePreset")
            .WithSummary("Deletes a preset; rooms naming it fall back to the tenant's default for new lives.");
        return api;
    }

    public static async Task<Results<Created<PresetDto>, ProblemHttpResult>> CreatePresetAsync(
        CreatePresetRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new CreatePresetRequest();
        var check = new RequestValidator()
            .Text("name", body.Name, PresetLimits.MaxNameLength)
            .Range("max_join_limit", body.MaxJoinLimit, 1, PresetLimits.MaxJoinLimit);
        if (string.IsNullOrWhiteSpace(body.Name))
        {
            check.Add("name", "Required.");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Registry(grains, user).CreateAsync(new CreatePresetCommand(
            body.Name!, body.ChatEnabled ?? true, body.MaxJoinLimit, body.RecordingEnabled ?? false, body.IsDefault ?? false));
        return result.IsSuccess
            ? TypedResults.Created($"/v1/presets/{result.Value!.PresetId}", result.Value)
            : Problems.From(result.Error!);
    }

    public static async Task<Ok<ListResponse<PresetDto>>> ListPresetsAsync(ClaimsPrincipal user, IGrainFactory grains) =>
        TypedResults.Ok(new ListResponse<PresetDto>(await Registry(grains, user).ListAsync(), null));

    public static async Task<Results<Ok<PresetDto>, ProblemHttpResult>> GetPresetAsync(string presetId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().PresetId("preset_id", presetId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await Registry(grains, user).GetAsync(presetId));
    }

    public static async Task<Results<Ok<PresetDto>, ProblemHttpResult>> UpdatePresetAsync(
        string presetId, UpdatePresetRequest? body, ClaimsPrincipal user, IGrainFactory grains)
    {
        body ??= new UpdatePresetRequest();
        var check = new RequestValidator()
            .PresetId("preset_id", presetId)
            .Text("name", body.Name, PresetLimits.MaxNameLength)
            .Range("max_join_limit", body.MaxJoinLimit, 1, PresetLimits.MaxJoinLimit);
        if (body.Name is not null && string.IsNullOrWhiteSpace(body.Name))
        {
            check.Add("name", "Must not be empty.");
        }

        if (!check.IsValid)
        {
            return check.Problem;
        }

        return RoomsApi.Ok(await Registry(grains, user).UpdateAsync(presetId, new UpdatePresetCommand(
            body.Name, body.ChatEnabled, body.MaxJoinLimitSet, body.MaxJoinLimit, body.RecordingEnabled, body.IsDefault)));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeletePresetAsync(string presetId, ClaimsPrincipal user, IGrainFactory grains)
    {
        var check = new RequestValidator().PresetId("preset_id", presetId);
        if (!check.IsValid)
        {
            return check.Problem;
        }

        var result = await Registry(grains, user).DeleteAsync(presetId);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static IPresetRegistryGrain Registry(IGrainFactory grains, ClaimsPrincipal user) =>
        grains.Get<IPresetRegistryGrain>(user.Tenant());
}
