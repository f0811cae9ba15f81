"""The college's data rules, each in one place: landing, Soda contracts, dbt and the sandbox
read them from here instead of keeping their own copies.

- `dates`: the vendor date notation of the subsystem files (`yyyy-MM-dd HH:mm:ss` …) and what
  it means in Python, PostgreSQL and dbt.
- `gb11643`: the 身份证号 check character (GB 11643-1999), in Python and as the SQL function the
  contracts call.
- `codes`: the code sets, read from the dbt seeds in `dbt_project/seeds/codes/`.

数据规则的唯一出处：日期格式记法、身份证号校验位、代码集。其他模块只从这里引用。
"""
