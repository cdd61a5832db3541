//! `FAKER.<category>.<function>` values in the style of Faker.js, backed by the
//! `fake` crate. Function names are accepted in camelCase or snake_case.

use chrono::{Duration, SecondsFormat, Utc};
use fake::Fake;
use fake::faker::{address::en as addr, company::en as co, internet::en as net};
use fake::faker::{
    job::en as job, lorem::en as lorem, name::en as name, phone_number::en as phone,
};
use rand::RngExt;
use rand::distr::Alphanumeric;
use serde_json::Value;

/// Known categories and their canonical (camelCase) function names.
#[rustfmt::skip]
const CATALOG: &[(&str, &[&str])] = &[
    ("name", &["firstName", "lastName", "fullName", "findName", "prefix", "suffix", "jobTitle"]),
    ("internet", &["email", "userName", "url", "domainName", "ip", "ipv4", "ipv6", "password",
                   "userAgent", "color"]),
    ("phone", &["phoneNumber", "number"]),
    ("address", &["streetAddress", "streetName", "city", "state", "stateAbbr", "zipCode", "country",
                  "countryCode", "latitude", "longitude", "buildingNumber"]),
    ("company", &["companyName", "name", "catchPhrase", "bs", "industry"]),
    ("commerce", &["productName", "price", "department", "color", "product"]),
    ("datatype", &["number", "uuid", "boolean", "float", "string"]),
    ("date", &["past", "future", "recent", "soon"]),
    ("lorem", &["word", "words", "sentence", "sentences", "paragraph", "text"]),
];

#[rustfmt::skip]
const ADJECTIVES: &[&str] = &["Small", "Ergonomic", "Rustic", "Sleek", "Gorgeous", "Handcrafted", "Practical"];
#[rustfmt::skip]
const MATERIALS: &[&str] = &["Steel", "Wooden", "Concrete", "Plastic", "Cotton", "Granite", "Rubber"];
#[rustfmt::skip]
const PRODUCTS: &[&str] = &["Chair", "Car", "Computer", "Keyboard", "Mouse", "Bike", "Ball", "Gloves", "Shirt"];
#[rustfmt::skip]
const DEPARTMENTS: &[&str] = &["Books", "Electronics", "Garden", "Grocery", "Health", "Home", "Sports", "Toys"];
#[rustfmt::skip]
const COLORS: &[&str] = &["red", "green", "blue", "orange", "purple", "teal", "silver", "black", "white"];

/// Lower-cases and strips `_` so `firstName` and `first_name` compare equal.
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn canonical(category: &str, function: &str) -> Option<(&'static str, &'static str)> {
    let (cat, fns) = CATALOG.iter().find(|(c, _)| *c == category)?;
    let wanted = normalize(function);
    fns.iter()
        .find(|f| normalize(f) == wanted)
        .map(|f| (*cat, *f))
}

/// True when `FAKER.<category>.<function>` is supported (camel or snake case).
pub fn faker_is_known(category: &str, function: &str) -> bool {
    canonical(category, function).is_some()
}

/// All supported functions as `category.function` (camelCase), for suggestions.
pub fn faker_functions() -> Vec<String> {
    CATALOG
        .iter()
        .flat_map(|(c, fns)| fns.iter().map(move |f| format!("{c}.{f}")))
        .collect()
}

fn pick(list: &[&str]) -> String {
    let i = rand::rng().random_range(0..list.len().max(1));
    list.get(i).copied().unwrap_or_default().to_owned()
}

fn alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn round(x: f64, places: i32) -> Value {
    let f = 10f64.powi(places);
    serde_json::Number::from_f64((x * f).round() / f).map_or(Value::Null, Value::Number)
}

fn date_offset(min_secs: i64, max_secs: i64) -> Value {
    let secs = rand::rng().random_range(min_secs..=max_secs);
    let t = Utc::now() + Duration::seconds(secs);
    Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Generates a fresh value for `FAKER.<path>` where `path` is `category.function`.
/// Unknown names give an error message listing the valid choices.
pub fn generate(path: &str) -> Result<Value, String> {
    let (category, function) = path.split_once('.').unwrap_or((path, ""));
    let Some((cat, func)) = canonical(category, function) else {
        return Err(match CATALOG.iter().find(|(c, _)| *c == category) {
            Some((c, fns)) => format!(
                "unknown faker function `FAKER.{path}`; `{c}` has: {}",
                fns.join(", ")
            ),
            None => format!(
                "unknown faker category in `FAKER.{path}`; categories: {}",
                CATALOG
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    };
    let s = |v: String| Value::String(v);
    let mut rng = rand::rng();
    const DAY: i64 = 86_400;
    Ok(match (cat, func) {
        ("name", "firstName") => s(name::FirstName().fake()),
        ("name", "lastName") => s(name::LastName().fake()),
        ("name", "prefix") => s(name::Title().fake()),
        ("name", "suffix") => s(name::Suffix().fake()),
        ("name", "jobTitle") => s(job::Title().fake()),
        ("name", _) => s(name::Name().fake()),
        ("internet", "email") => s(net::SafeEmail().fake()),
        ("internet", "userName") => s(net::Username().fake()),
        ("internet", "url") => s(format!("https://{}", domain())),
        ("internet", "domainName") => s(domain()),
        ("internet", "ipv6") => s(net::IPv6().fake()),
        ("internet", "password") => s(net::Password(10..17).fake()),
        ("internet", "userAgent") => s(net::UserAgent().fake()),
        ("internet", "color") => s(format!("#{:06x}", rng.random_range(0..=0xFF_FFFFu32))),
        ("internet", _) => s(net::IPv4().fake()),
        ("phone", _) => s(phone::PhoneNumber().fake()),
        ("address", "streetAddress") => s(format!(
            "{} {}",
            addr::BuildingNumber().fake::<String>(),
            addr::StreetName().fake::<String>()
        )),
        ("address", "streetName") => s(addr::StreetName().fake()),
        ("address", "city") => s(addr::CityName().fake()),
        ("address", "state") => s(addr::StateName().fake()),
        ("address", "stateAbbr") => s(addr::StateAbbr().fake()),
        ("address", "zipCode") => s(addr::ZipCode().fake()),
        ("address", "country") => s(addr::CountryName().fake()),
        ("address", "countryCode") => s(addr::CountryCode().fake()),
        ("address", "latitude") => round(rng.random_range(-90.0..=90.0), 6),
        ("address", "longitude") => round(rng.random_range(-180.0..=180.0), 6),
        ("address", _) => s(addr::BuildingNumber().fake()),
        ("company", "catchPhrase") => s(co::CatchPhrase().fake()),
        ("company", "bs") => s(co::Bs().fake()),
        ("company", "industry") => s(co::Industry().fake()),
        ("company", _) => s(co::CompanyName().fake()),
        ("commerce", "productName") => s(format!(
            "{} {} {}",
            pick(ADJECTIVES),
            pick(MATERIALS),
            pick(PRODUCTS)
        )),
        ("commerce", "price") => s(format!("{:.2}", rng.random_range(1.0..1000.0f64))),
        ("commerce", "department") => s(pick(DEPARTMENTS)),
        ("commerce", "color") => s(pick(COLORS)),
        ("commerce", _) => s(pick(PRODUCTS)),
        ("datatype", "uuid") => s(uuid::Uuid::new_v4().to_string()),
        ("datatype", "boolean") => Value::Bool(rng.random_bool(0.5)),
        ("datatype", "float") => round(rng.random_range(0.0..100_000.0), 2),
        ("datatype", "string") => s(alnum(10)),
        ("datatype", _) => Value::from(rng.random_range(0..=99_999u32)),
        ("date", "past") => date_offset(-365 * DAY, -1),
        ("date", "future") => date_offset(1, 365 * DAY),
        ("date", "recent") => date_offset(-DAY, -1),
        ("date", _) => date_offset(1, DAY),
        ("lorem", "word") => s(lorem::Word().fake()),
        ("lorem", "words") => s(lorem::Words(3..4).fake::<Vec<String>>().join(" ")),
        ("lorem", "sentence") => s(lorem::Sentence(4..10).fake()),
        ("lorem", "sentences") => s(lorem::Sentences(2..6).fake::<Vec<String>>().join(" ")),
        _ => s(lorem::Paragraph(3..6).fake()),
    })
}

fn domain() -> String {
    let word: String = lorem::Word().fake();
    let suffix: String = net::DomainSuffix().fake();
    format!("{}.{suffix}", word.to_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown() {
        assert!(faker_is_known("name", "firstName"));
        assert!(faker_is_known("name", "first_name"));
        assert!(faker_is_known("internet", "user_name"));
        assert!(!faker_is_known("name", "nope"));
        assert!(!faker_is_known("nope", "firstName"));
        assert!(faker_functions().contains(&"lorem.sentence".to_owned()));
        let e = generate("name.frstName").unwrap_err();
        assert!(e.contains("firstName") && e.contains("lastName"), "{e}");
        assert!(generate("bogus.x").unwrap_err().contains("internet"));
        assert!(generate("name").is_err());
    }

    #[test]
    fn every_function_generates() {
        for f in faker_functions() {
            let v = generate(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(!v.is_null(), "{f}");
            if let Some((c, func)) = f.split_once('.') {
                let snake: String = func
                    .chars()
                    .flat_map(|ch| {
                        if ch.is_uppercase() {
                            vec!['_', ch]
                        } else {
                            vec![ch]
                        }
                    })
                    .collect();
                assert!(generate(&format!("{c}.{snake}")).is_ok(), "{c}.{snake}");
            }
        }
        assert!(
            generate("internet.email")
                .unwrap()
                .as_str()
                .is_some_and(|e| e.contains('@'))
        );
        assert!(generate("datatype.number").unwrap().is_u64());
        let past = generate("date.past").unwrap();
        let past = chrono::DateTime::parse_from_rfc3339(past.as_str().unwrap_or_default()).unwrap();
        assert!(past < Utc::now());
    }
}
