//! Calendar dates in JSON as ISO 8601 (`2027-03-01`), which is what the API
//! documents and accepts; `time`'s own serde form is a `[year, ordinal]` tuple.

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");

#[cfg(test)]
mod tests {
    use serde::Serialize;
    use time::macros::date;

    #[derive(Serialize)]
    struct Dated {
        #[serde(with = "super::iso_date::option")]
        deadline: Option<time::Date>,
    }

    #[test]
    fn dates_are_written_as_iso_8601() {
        let dated = Dated { deadline: Some(date!(2000 - 01 - 02)) };
        assert_eq!(serde_json::to_string(&dated).expect("json"), r#"{"deadline":"2000-01-02"}"#);
        let none = Dated { deadline: None };
        assert_eq!(serde_json::to_string(&none).expect("json"), r#"{"deadline":null}"#);
    }
}
