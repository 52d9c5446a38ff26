import { CONFIG_FIELDS, CONFIG_HINT } from '../config.js';
import { useServices } from '../services.jsx';

export default function ConfigPage() {
  const { config } = useServices();
  return (
    <section>
      <h1>Configuration</h1>
      {config.missing.length > 0 && (
        <p role="alert" className="error">
          Missing: {config.missing.join(', ')}. {CONFIG_HINT}
        </p>
      )}
      <table className="config">
        <tbody>
          {CONFIG_FIELDS.map(({ key, variable, label }) => (
            <tr key={key} data-testid={`config-${key}`}>
              <th scope="row">{label}</th>
              <td>{config[key] ? <code>{config[key]}</code> : <em>not set</em>}</td>
              <td className="var">{variable}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
