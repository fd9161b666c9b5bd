import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../theme.css';
import './volunteer.css';
import { VolunteerPage } from './VolunteerPage.tsx';

const root = document.getElementById('root');
if (!root) throw new Error('volunteer.html has no #root element');

// The coordinator serves this page, so its origin is the coordinator's.
createRoot(root).render(
  <StrictMode>
    <VolunteerPage origin={window.location.origin} />
  </StrictMode>,
);
