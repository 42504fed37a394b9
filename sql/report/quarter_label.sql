-- The label of the quarter that starts on $day (2024Q3, or FY2025Q2 with fiscal quarters).
select quarter_label($day::date, $fiscal_start_month)
