//! The OpenAPI 3.1 document, generated from the code: each handler's `#[utoipa::path]` (route,
//! parameters, bodies, answers) and the types' `ToSchema` derives. Then what every route shares
//! (the answers of the server's limits) and what only the loaded data knows (the area codes) are
//! added, and the text is kept per snapshot.

use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa::openapi::{ObjectBuilder, RefOr, Type, schema::Schema};

use super::schema;
use crate::engine::Engine;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Phủ Số map API",
        description = "Coverage of community digital-technology and youth-volunteer teams. Every answer is an aggregate under the small-count rule; raw visits never leave the engine. Errors are always {\"error\": \"…\"}."
    ),
    paths(
        super::health,
        super::summary,
        super::areas,
        super::area,
        super::priorities,
        super::hexes,
        super::export_csv,
        super::export_parquet,
        super::openapi,
        super::audit,
        super::planning::plan,
        super::planning::whatif,
        super::upload::me,
        super::upload::visits,
        super::decisions::list,
        super::decisions::save,
        super::decisions::one,
        super::decisions::log,
        super::roster::put_team,
        super::roster::post_roster,
        super::ogc::landing,
        super::ogc::conformance,
        super::ogc::collections,
        super::ogc::collection,
        super::ogc::items,
        super::ogc::item,
        super::reports::priorities,
        super::reports::audit,
        super::reports::plan,
        super::tiles::catalog,
        super::tiles::tilejson_route,
        super::tiles::tile,
    ),
    components(schemas(schema::Error)),
    tags(
        (name = "read", description = "Aggregates, open on loopback or with --public-read, else with any token"),
        (name = "plan", description = "Planning: computed for anyone who may read; saved by planners"),
        (name = "ogc", description = "OGC API – Features 1.0 (core, GeoJSON): the same figures for GIS clients"),
        (name = "tiles", description = "Mapbox Vector Tiles and TileJSON, for MapLibre and QGIS"),
        (name = "write", description = "Uploads and edits: a bearer token of the right role"),
    )
)]
struct ApiDoc;

/// A boolean that can only be `true` (`meet_deadline`).
#[must_use]
pub fn only_true() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .into()
}

/// Routes whose work is bounded per client (429) besides the in-flight bound (503).
const EXPENSIVE: [&str; 9] = [
    "/api/hexes",
    "/api/export/priorities.xlsx",
    "/api/export/audit.xlsx",
    "/api/export/plan.xlsx",
    "/api/export/areas.csv",
    "/api/export/areas.parquet",
    "/api/audit",
    "/api/plan",
    "/api/whatif",
];

/// The document for `engine`'s data, as JSON text.
#[must_use]
pub fn document(engine: &Engine, collections: &[String], tile_layers: &[&str]) -> String {
    let mut doc = match serde_json::to_value(ApiDoc::openapi()) {
        Ok(v) => v,
        Err(e) => return json!({ "error": e.to_string() }).to_string(),
    };
    let error =
        json!({ "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } });
    let answer =
        |description: &str| json!({ "description": description, "content": error.clone() });
    let codes: Vec<&str> = engine.areas().iter().map(|a| a.code.as_str()).collect();
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(item) = item else { continue };
            for (method, op) in item.iter_mut() {
                let Some(Value::Object(responses)) = op.get_mut("responses") else {
                    continue;
                };
                let mut add = |code: &str, text: &str| {
                    responses.entry(code).or_insert_with(|| answer(text));
                };
                if path != "/api/health" {
                    add(
                        "503",
                        "busy (too many requests in flight, `Retry-After`), or no store",
                    );
                }
                add("405", "another method than the route's");
                add("431", "request headers over 32 KiB");
                if method != "get" {
                    add("413", "body over the route's limit");
                }
                if EXPENSIVE.contains(&path.as_str()) {
                    add(
                        "429",
                        "this client's rate on expensive routes is used up (`Retry-After`)",
                    );
                }
                // Each GET refuses parameters it does not know.
                if method == "get" && path != "/api/health" {
                    add("400", "bad or unknown parameter");
                }
            }
            // The collections of the loaded data.
            if path.starts_with("/ogc/collections/{collectionId}")
                && let Some(Value::Array(params)) =
                    item.get_mut("get").and_then(|op| op.get_mut("parameters"))
            {
                for p in params {
                    if p["name"] == "collectionId" {
                        p["schema"] = json!({ "type": "string", "enum": collections });
                    }
                }
            }
            // The tile layers of the loaded data (`{layer}.json` for the TileJSON).
            if path.starts_with("/tiles/{layer}")
                && let Some(Value::Array(params)) =
                    item.get_mut("get").and_then(|op| op.get_mut("parameters"))
            {
                let names: Vec<String> = if path == "/tiles/{layer}" {
                    tile_layers.iter().map(|l| format!("{l}.json")).collect()
                } else {
                    tile_layers.iter().map(|l| (*l).to_owned()).collect()
                };
                for p in params {
                    if p["name"] == "layer" {
                        p["schema"] = json!({ "type": "string", "enum": names });
                    }
                }
            }
            // The codes of the loaded areas.
            if path == "/api/areas/{code}"
                && let Some(Value::Array(params)) =
                    item.get_mut("get").and_then(|op| op.get_mut("parameters"))
            {
                for p in params {
                    if p["name"] == "code" {
                        p["schema"] = json!({ "type": "string", "enum": codes });
                    }
                }
            }
        }
    }
    // The levels the loaded data has (a country only for a national directory): every `level`
    // parameter and field takes one of them.
    if let Some(level) = doc.pointer_mut("/components/schemas/Level") {
        let have: Vec<&str> = crate::model::Level::ALL
            .into_iter()
            .filter(|l| engine.figures_at(*l).next().is_some())
            .map(crate::model::Level::as_str)
            .collect();
        level["enum"] = json!(have);
    }
    // A what-if change is one of its shapes, with no other field (serde's deny_unknown_fields,
    // which the derive does not carry to the variants of a tagged enum).
    if let Some(Value::Array(shapes)) = doc.pointer_mut("/components/schemas/Change/oneOf") {
        for shape in shapes {
            shape["additionalProperties"] = json!(false);
        }
    }
    doc["components"]["securitySchemes"] = json!({
        "bearer": { "type": "http", "scheme": "bearer", "description": "a token from `phuso token create`" }
    });
    doc.to_string()
}
