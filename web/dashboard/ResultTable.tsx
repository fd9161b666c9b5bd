import { useId, useMemo, useState } from 'react';
import type { KeyValue } from '../../shared/job.ts';
import { canonicalKey } from '../../shared/keys.ts';
import { formatCount } from './format.ts';
import { cellText, DEFAULT_RESULT_SORT, orderResult, type ResultSort } from '../../shared/result-order.ts';

/** Rows shown at first, and added by each "Show more": enough to read, few enough to render instantly. */
const ROWS_PER_PAGE = 100;

interface ResultTableProps {
  pairs: readonly KeyValue[];
}

const COLUMNS = [
  { by: 'key', title: 'Key', firstDirection: 'ascending' },
  { by: 'value', title: 'Value', firstDirection: 'descending' },
] as const;

/** A job's result as a table sortable by key or by value, top values first to begin with. */
export function ResultTable({ pairs }: ResultTableProps) {
  const [sort, setSort] = useState<ResultSort>(DEFAULT_RESULT_SORT);
  const [rowLimit, setRowLimit] = useState(ROWS_PER_PAGE);
  const [search, setSearch] = useState('');
  const searchId = useId();
  const ordered = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const matching = needle === '' ? pairs : pairs.filter(([key]) => cellText(key).toLowerCase().includes(needle));
    return orderResult(matching, sort);
  }, [pairs, sort, search]);

  const sortBy = (by: ResultSort['by'], firstDirection: ResultSort['direction']) =>
    setSort((current) =>
      current.by === by
        ? { by, direction: current.direction === 'ascending' ? 'descending' : 'ascending' }
        : { by, direction: firstDirection },
    );

  return (
    <>
      <div className="field result-search">
        <label htmlFor={searchId}>Find keys containing</label>
        <input
          id={searchId}
          type="search"
          data-testid="result-search"
          value={search}
          onChange={(event) => {
            setSearch(event.target.value);
            setRowLimit(ROWS_PER_PAGE);
          }}
        />
      </div>
      {ordered.length === 0 && <p className="muted">No key contains “{search.trim()}”.</p>}
      <div className="table-scroll">
        <table className="data-table result-table" data-testid="result-table">
          <caption className="visually-hidden">
            Result, sorted by {sort.by}, {sort.direction}
          </caption>
          <thead>
            <tr>
              {COLUMNS.map((column) => (
                <th key={column.by} scope="col" aria-sort={sort.by === column.by ? sort.direction : 'none'}>
                  <button
                    type="button"
                    className="sort-button"
                    onClick={() => sortBy(column.by, column.firstDirection)}
                  >
                    {column.title}
                    <span aria-hidden="true" className="sort-arrow">
                      {sort.by === column.by ? (sort.direction === 'ascending' ? '▲' : '▼') : ''}
                    </span>
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ordered.slice(0, rowLimit).map(([key, value]) => (
              <tr key={canonicalKey(key)} data-key={JSON.stringify(key)}>
                {/* The title shows keys that are only whitespace, which the cell cannot. */}
                <td className="cell-key" title={JSON.stringify(key)}>
                  {cellText(key)}
                </td>
                <td className="cell-value">{cellText(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {ordered.length > ROWS_PER_PAGE && (
        <p className="table-footer">
          <span>
            Showing {formatCount(Math.min(rowLimit, ordered.length))} of {formatCount(ordered.length)} keys
          </span>
          {rowLimit < ordered.length && (
            <button type="button" onClick={() => setRowLimit((limit) => limit + ROWS_PER_PAGE)}>
              Show {formatCount(Math.min(ROWS_PER_PAGE, ordered.length - rowLimit))} more
            </button>
          )}
        </p>
      )}
    </>
  );
}
