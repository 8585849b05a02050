//! The API's one way of answering with a list (docs/api.md): `?limit=&cursor=` in, and
//! `{"items": [...], "next_cursor": "..."}` out, `next_cursor` null on the last page. Cursors
//! are opaque to clients, so an endpoint may page by offset today and by key tomorrow.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// How many items a page has when the client does not say.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most items a page may have.
pub const MAX_LIMIT: u32 = 200;

/// The query parameters of a list: take with `Query<PageParams>` (or flatten into the
/// endpoint's own query struct) and list it in `#[utoipa::path(params(PageParams))]`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// How many items, 1 to 200 (50 when not given).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Where to go on: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<i64, Error> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
            _ => Err(Error::invalid("limit", "must be 1 to 200")),
        }
    }

    /// The offset an offset cursor carries; 0 without a cursor.
    pub fn offset(&self) -> Result<i64, Error> {
        match self.decoded("o")? {
            None => Ok(0),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(bad_cursor),
        }
    }

    /// The last key of the previous page, for endpoints that page by key.
    pub fn after(&self) -> Result<Option<String>, Error> {
        self.decoded("k")
    }

    fn decoded(&self, kind: &str) -> Result<Option<String>, Error> {
        let Some(cursor) = self.cursor.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(None);
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor())?;
        let text = String::from_utf8(bytes).map_err(|_| bad_cursor())?;
        match text.split_once(':') {
            Some((k, v)) if k == kind => Ok(Some(v.to_owned())),
            _ => Err(bad_cursor()),
        }
    }
}

fn bad_cursor() -> Error {
    Error::invalid("cursor", "not a cursor this list gave out")
}

fn cursor(kind: &str, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{value}"))
}

/// One page of a list. A path that answers `body = Page<OfficeRow>` puts it in the OpenAPI
/// document as the schema `Page_OfficeRow`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Send it back as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// From rows fetched with `LIMIT limit + 1 OFFSET offset`: the extra row, dropped, says
    /// that there is a next page.
    pub fn by_offset(mut rows: Vec<T>, limit: i64, offset: i64) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        Page::after_offset(rows, more, offset)
    }

    /// A page that started at `offset`, when the caller already knows whether more follow.
    pub fn after_offset(items: Vec<T>, more: bool, offset: i64) -> Page<T> {
        Page {
            next_cursor: more.then(|| cursor("o", &(offset + items.len() as i64).to_string())),
            items,
        }
    }

    /// From rows fetched with `WHERE key > after ORDER BY key LIMIT limit + 1`; `key` gives
    /// a row's key.
    pub fn by_key(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let more = rows.len() > limit;
        rows.truncate(limit);
        Page {
            next_cursor: more
                .then(|| rows.last().map(|r| cursor("k", &key(r))))
                .flatten(),
            items: rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(limit: Option<u32>, cursor: Option<&str>) -> PageParams {
        PageParams {
            limit,
            cursor: cursor.map(str::to_owned),
        }
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(params(None, None).limit().expect("default"), 50);
        assert_eq!(params(Some(200), None).limit().expect("max"), 200);
        for bad in [0, 201] {
            assert!(matches!(
                params(Some(bad), None).limit(),
                Err(Error::Invalid { field, .. }) if field == "limit"
            ));
        }
    }

    #[test]
    fn offset_pages_walk_to_the_end() {
        let all: Vec<i32> = (0..5).collect();
        let mut p = params(Some(2), None);
        let mut seen = Vec::new();
        loop {
            let (limit, offset) = (p.limit().expect("limit"), p.offset().expect("offset"));
            let rows: Vec<i32> = all
                .iter()
                .copied()
                .skip(offset as usize)
                .take(limit as usize + 1)
                .collect();
            let page = Page::by_offset(rows, limit, offset);
            seen.extend(page.items);
            match page.next_cursor {
                Some(c) => p.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, all);
    }

    #[test]
    fn key_pages_carry_the_last_key() {
        let page = Page::by_key(vec!["a", "b", "c"], 2, |s| (*s).to_owned());
        assert_eq!(page.items, vec!["a", "b"]);
        let next = params(None, page.next_cursor.as_deref());
        assert_eq!(next.after().expect("after").as_deref(), Some("b"));
        let last = Page::by_key(vec!["c"], 2, |s| (*s).to_owned());
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn foreign_cursors_are_refused_by_name() {
        let key_cursor = cursor("k", "b");
        for bad in ["%%%", "bm90LWEtY3Vyc29y", key_cursor.as_str()] {
            assert!(
                matches!(params(None, Some(bad)).offset(), Err(Error::Invalid { field, .. }) if field == "cursor"),
                "{bad}"
            );
        }
        assert_eq!(params(None, Some("")).offset().expect("empty"), 0);
    }

    #[test]
    fn pages_are_named_per_item_type_in_the_document() {
        #[derive(Serialize, utoipa::ToSchema)]
        struct Item {
            id: i32,
        }
        #[utoipa::path(get, path = "/api/v1/items", params(PageParams),
            responses((status = 200, description = "Items", body = Page<Item>)))]
        #[expect(dead_code, reason = "only its description is used")]
        fn items() {}
        #[derive(utoipa::OpenApi)]
        #[openapi(paths(items))]
        struct Doc;
        let doc = serde_json::to_value(<Doc as utoipa::OpenApi>::openapi()).expect("json");
        let op = &doc["paths"]["/api/v1/items"]["get"];
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(names, ["limit", "cursor"]);
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(r) => doc.pointer(r.trim_start_matches('#')).expect("resolves"),
            None => schema,
        };
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Page_Item"
        );
        assert_eq!(schema["properties"]["items"]["type"], "array", "{doc}");
        assert!(schema["properties"]["next_cursor"].is_object());
    }
}
